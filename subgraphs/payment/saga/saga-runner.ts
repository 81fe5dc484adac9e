// Runs the order saga through the command handler (load the order stream, decide, append with the
// loaded version; a concurrent decision is retried on fresh state), then saves the order view.
// Everything it does can be repeated: a redelivered reply or a repeated timeout finds its decision
// already in the stream and only re-saves the view.
import { attr, inSpan, tracingEnabled } from '../../../platform/tracing';
import type { CausationContext } from '../../../messaging/events/envelope';
import type { EventStore } from '../../../messaging/store/event-store';
import { CommandHandler } from '../../../messaging/store/command-handler';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { inventoryStreamId } from '../domain/inventory';
import { paymentStreamId } from '../domain/payment-service';
import { saveOrderView, type OrderView } from '../domain/read-models';
import { shipmentStreamId } from '../domain/shipping';
import { isOpen, isSagaReply, orderStreamId, type OrderSaga, type SagaEvent, type SagaInput, type SagaReply, type SagaState } from './order-saga';

export interface LoadedSaga {
  readonly state: SagaState;
  readonly version: number;
}

const MAX_CONFLICT_RETRIES = 8;
/** Sagas whose folded state is kept between steps (open ones; a finished saga is dropped). */
const CACHED_SAGAS = 10_000;

export class OrderSagaRunner {
  private readonly handler: CommandHandler<SagaInput, SagaState, SagaEvent>;

  constructor(
    saga: OrderSaga,
    private readonly store: EventStore,
    private readonly orders: DocumentCollection<OrderView>,
    clock: Clock,
  ) {
    this.handler = new CommandHandler(saga, {
      store,
      clock,
      conflictRetries: MAX_CONFLICT_RETRIES,
      cachedStreams: CACHED_SAGAS,
      keepFolded: isOpen,
    });
  }

  async load(orderId: string): Promise<LoadedSaga> {
    const { state, version } = await this.handler.load(orderStreamId(orderId));
    return { state, version };
  }

  /**
   * Apply one input. `causeKey` names what caused it (an event id, a timeout at a version) so the
   * appended events get ids that repeat when the same cause is handled again.
   */
  apply(orderId: string, input: SagaInput, context: CausationContext, causeKey: string): Promise<LoadedSaga> {
    if (!tracingEnabled()) return this.applyOnce(orderId, input, context, causeKey);
    // A span per saga step, inside the delivery (or timeout scan) that caused it.
    return inSpan(
      `order saga ${input.kind === 'reply' ? input.event.type : input.kind}`,
      { attributes: { 'membership.saga': 'order', 'membership.order.id': orderId, 'membership.saga.input': input.kind, [attr.correlationId]: context.correlationId } },
      async (span) => {
        const before = this.handler.peek(orderStreamId(orderId))?.state.status;
        const loaded = await this.applyOnce(orderId, input, context, causeKey);
        span.setAttributes({ ...(before ? { 'membership.saga.from_status': before } : {}), 'membership.saga.status': loaded.state.status, 'membership.saga.version': loaded.version });
        return loaded;
      },
    );
  }

  private async applyOnce(orderId: string, input: SagaInput, context: CausationContext, causeKey: string): Promise<LoadedSaga> {
    const { state, version } = await this.handler.handle(orderStreamId(orderId), input, context, undefined, (decision) =>
      deterministicUuid(`order-saga:${causeKey}:${decision.version}:${decision.index}`),
    );
    const next = { state, version };
    await this.saveView(next);
    return next;
  }

  /** A reply from payment, inventory or shipping, as the order saga's consumer takes it. */
  applyReply(reply: SagaReply): Promise<LoadedSaga> {
    return this.apply(
      reply.payload.orderId,
      { kind: 'reply', event: reply },
      { correlationId: reply.correlationId, causationId: reply.id, actor: { id: 'order-saga', role: 'system' } },
      reply.id,
    );
  }

  /**
   * Take the replies already recorded in the store for this order (its payment, reservation and
   * shipment streams) that the saga has not taken yet; resolves to how many moved it on. The
   * timeout scan calls this before deciding a timeout: a reply recorded while the saga's consumer
   * was stopped, or is still on its way through the relay and the queue, wins over the deadline.
   * Applied as the consumer would apply it (same cause key): whichever comes second changes nothing.
   */
  async applyRecordedReplies(orderId: string): Promise<number> {
    const { state, version } = await this.load(orderId);
    if (!isOpen(state)) return 0;
    const { paymentId } = state.order;
    const streams = [paymentStreamId(paymentId), inventoryStreamId(orderId), shipmentStreamId(orderId)];
    const replies = (await Promise.all(streams.map((s) => this.store.readStream(s))))
      .flat()
      .filter(isSagaReply)
      .sort((a, b) => a.position - b.position);
    let moved = 0;
    let at = version;
    for (const reply of replies) {
      const after = await this.applyReply(reply);
      if (after.version !== at) moved++;
      at = after.version;
    }
    return moved;
  }

  async saveView(loaded: LoadedSaga): Promise<void> {
    const view = orderViewOf(loaded);
    if (view) await saveOrderView(this.orders, view);
  }
}

export function orderViewOf({ state, version }: LoadedSaga): OrderView | null {
  if (state.status === 'absent') return null;
  const o = state.order;
  return {
    id: o.orderId,
    memberId: o.memberId,
    status: state.status,
    items: o.items,
    totalCents: o.totalCents,
    currency: o.currency,
    paymentId: o.paymentId,
    trackingNumber: state.status === 'completed' ? state.trackingNumber : null,
    failureReason: state.status === 'failed' || state.status === 'cancelled' || state.status === 'compensating' ? state.reason : null,
    refundedCents: state.status === 'cancelled' ? state.refundedCents : null,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version,
    open: isOpen(state),
    deadlineAt: isOpen(state) ? state.deadlineAt : null,
    correlationId: state.correlationId,
    createdPosition: state.createdPosition,
  };
}
