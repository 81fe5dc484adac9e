// Runs the order saga against the store: load the order stream, decide, append the decision with
// the loaded version (a concurrent decision makes it CONFLICT and is retried on fresh state), then
// save the order view. Everything it does can be repeated: a redelivered reply or a repeated
// timeout finds its decision already in the stream and only re-saves the view.
import { attr, inSpan, tracingEnabled } from '../../../platform/tracing';
import type { CausationContext } from '../../../messaging/events/envelope';
import type { EventStore } from '../../../messaging/store/event-store';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { ConcurrencyError } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import { inventoryStreamId } from '../domain/inventory';
import { paymentStreamId } from '../domain/payment-service';
import { saveOrderView, type OrderView } from '../domain/read-models';
import { shipmentStreamId } from '../domain/shipping';
import { isOpen, isSagaEvent, isSagaReply, orderStreamId, type OrderSaga, type SagaInput, type SagaReply, type SagaState } from './order-saga';

export interface LoadedSaga {
  readonly state: SagaState;
  readonly version: number;
}

const MAX_CONFLICT_RETRIES = 8;
/** Sagas whose folded state is kept between steps (open ones; a finished saga is dropped). */
const CACHED_SAGAS = 10_000;

export class OrderSagaRunner {
  constructor(
    private readonly saga: OrderSaga,
    private readonly store: EventStore,
    private readonly orders: DocumentCollection<OrderView>,
    private readonly clock: Clock,
  ) {}

  /**
   * Folded state of open sagas, by order id, at the version it was folded to. Only a starting point:
   * every load still reads the stream from that version on, so other processes' steps are seen.
   */
  private readonly folded = new Map<string, LoadedSaga>();

  async load(orderId: string): Promise<LoadedSaga> {
    const cached = this.folded.get(orderId);
    let state = cached?.state ?? this.saga.initialState;
    let version = cached?.version ?? 0;
    for (const event of await this.store.readStream(orderStreamId(orderId), version + 1)) {
      if (isSagaEvent(event)) state = this.saga.evolve(state, event);
      version = event.streamVersion;
    }
    const loaded = { state, version };
    this.remember(orderId, loaded);
    return loaded;
  }

  private remember(orderId: string, loaded: LoadedSaga): void {
    this.folded.delete(orderId);
    if (!isOpen(loaded.state)) return;
    if (this.folded.size >= CACHED_SAGAS) {
      const oldest = this.folded.keys().next().value;
      if (oldest !== undefined) this.folded.delete(oldest);
    }
    this.folded.set(orderId, loaded);
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
        const before = this.folded.get(orderId)?.state.status;
        const loaded = await this.applyOnce(orderId, input, context, causeKey);
        span.setAttributes({ ...(before ? { 'membership.saga.from_status': before } : {}), 'membership.saga.status': loaded.state.status, 'membership.saga.version': loaded.version });
        return loaded;
      },
    );
  }

  private async applyOnce(orderId: string, input: SagaInput, context: CausationContext, causeKey: string): Promise<LoadedSaga> {
    for (let attempt = 0; ; attempt++) {
      const loaded = await this.load(orderId);
      const decided = this.saga.decide(input, loaded.state, this.clock.now());
      if (decided.length === 0) {
        await this.saveView(loaded);
        return loaded;
      }
      try {
        const result = await this.store.append(
          orderStreamId(orderId),
          decided.map((e, i) => ({ ...e, id: deterministicUuid(`order-saga:${causeKey}:${loaded.version}:${i}`) })),
          { expectedVersion: loaded.version, context },
        );
        let state = loaded.state;
        for (const event of result.events) if (isSagaEvent(event)) state = this.saga.evolve(state, event);
        const next = { state, version: result.nextExpectedVersion };
        this.remember(orderId, next);
        await this.saveView(next);
        return next;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
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
