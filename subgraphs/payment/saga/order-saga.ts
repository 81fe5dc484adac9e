// The order saga of the seed as a pure decider over the order's stream: the stream holds the order,
// the commands the saga sent (payment.initiated, inventory.reserve, shipping.create, payment.refund,
// inventory.release) and its outcome, so its state is a fold and each decision is one atomic append.
// No I/O and no clock: `now` comes in, deadlines are computed from event times.
import type { EventPayload } from '../../../messaging/events/catalog';
import type { EventEnvelope } from '../../../messaging/events/envelope';
import type { Decider } from '../../../messaging/store/command-handler';
import type { OrderFacts } from '../domain/order';

/** Events the saga writes into the order stream. */
export type SagaEventType =
  | 'order.created'
  | 'payment.initiated'
  | 'inventory.reserve'
  | 'shipping.create'
  | 'payment.refund'
  | 'inventory.release'
  | 'order.completed'
  | 'order.failed'
  | 'order.cancelled';

/** Replies from the services that move the saga on. */
export const sagaReplyTypes = [
  'payment.completed',
  'payment.failed',
  'inventory.reserved',
  'inventory.failed',
  'shipment.created',
  'payment.refunded',
  // Fulfilment after completion (the member service): a membership that cannot be activated.
  'membership.activation.failed',
] as const;
export type SagaReplyType = (typeof sagaReplyTypes)[number];

export type SagaEvent = { [T in SagaEventType]: { type: T; payload: EventPayload<T>; occurredAt: string } }[SagaEventType];
type StoredSagaEvent = { [T in SagaEventType]: EventEnvelope<T> }[SagaEventType];
export type SagaReply = { [T in SagaReplyType]: EventEnvelope<T> }[SagaReplyType];

interface Common {
  readonly order: OrderFacts;
  readonly correlationId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Global position of order.created: where a progress subscription starts. */
  readonly createdPosition: number;
}

export type SagaState =
  | { readonly status: 'absent' }
  | (Common & { readonly status: 'awaiting_payment'; readonly deadlineAt: string })
  | (Common & { readonly status: 'reserving_stock'; readonly deadlineAt: string })
  | (Common & { readonly status: 'creating_shipment'; readonly deadlineAt: string })
  | (Common & {
      readonly status: 'compensating';
      readonly deadlineAt: string;
      readonly reason: string;
      /** Refund commands sent so far (a compensation step that times out is sent again). */
      readonly refundAttempts: number;
    })
  | (Common & { readonly status: 'completed'; readonly trackingNumber: string })
  | (Common & { readonly status: 'failed'; readonly reason: string })
  | (Common & { readonly status: 'cancelled'; readonly reason: string; readonly refundedCents: number });

export type SagaStatus = SagaState['status'];
export type OpenStatus = Extract<SagaState, { deadlineAt: string }>['status'];
export const terminalStatuses: readonly SagaStatus[] = ['completed', 'failed', 'cancelled'];

export type SagaInput =
  | { readonly kind: 'start'; readonly order: OrderFacts; readonly card: EventPayload<'payment.initiated'>['card'] }
  | { readonly kind: 'reply'; readonly event: SagaReply }
  | { readonly kind: 'timeout' };

export interface SagaSettings {
  /** How long each step may take before compensation starts. */
  readonly stepTimeoutMs: number;
}

export const initialSagaState: SagaState = { status: 'absent' };

export function isOpen(state: SagaState): state is Extract<SagaState, { deadlineAt: string }> {
  return 'deadlineAt' in state;
}

const lines = (order: OrderFacts) => order.items.map((i) => ({ sku: i.sku, quantity: i.quantity }));

export function createOrderSaga(settings: SagaSettings) {
  const deadline = (at: string) => new Date(new Date(at).getTime() + settings.stepTimeoutMs).toISOString();

  /** What the saga does about an input in a state: the events to append (none = nothing to do). */
  function decide(input: SagaInput, state: SagaState, now: Date): SagaEvent[] {
    const at = now.toISOString();
    if (input.kind === 'start') {
      if (state.status !== 'absent') return [];
      const o = input.order;
      return [
        { type: 'order.created', occurredAt: at, payload: { ...o, items: [...o.items], memberships: [...o.memberships] } },
        {
          type: 'payment.initiated',
          occurredAt: at,
          payload: { paymentId: o.paymentId, orderId: o.orderId, memberId: o.memberId, amountCents: o.totalCents, currency: o.currency, card: input.card },
        },
      ];
    }
    if (state.status === 'absent') return [];
    const o = state.order;
    const refund = (reason: string): SagaEvent => ({
      type: 'payment.refund',
      occurredAt: at,
      payload: { paymentId: o.paymentId, orderId: o.orderId, memberId: o.memberId, reason },
    });
    const release: SagaEvent = { type: 'inventory.release', occurredAt: at, payload: { orderId: o.orderId, items: lines(o) } };

    if (input.kind === 'timeout') {
      if (!isOpen(state) || new Date(state.deadlineAt) > now) return [];
      switch (state.status) {
        case 'awaiting_payment':
          // The payment may still be in flight: the refund also cancels it at the gateway.
          return [refund('payment timed out'), { type: 'order.failed', occurredAt: at, payload: { orderId: o.orderId, memberId: o.memberId, reason: 'payment timed out' } }];
        case 'reserving_stock':
          return [release, refund('stock reservation timed out')];
        case 'creating_shipment':
          return [release, refund('shipping timed out')];
        case 'compensating':
          // Refunds are idempotent per payment at the gateway: asking again never refunds twice.
          return [refund(state.reason)];
        default: {
          const unreachable: never = state;
          return unreachable;
        }
      }
    }

    const event = input.event;
    if (event.payload.orderId !== o.orderId) return [];
    switch (state.status) {
      case 'awaiting_payment':
        if (event.type === 'payment.completed' && event.payload.paymentId === o.paymentId) {
          return [{ type: 'inventory.reserve', occurredAt: at, payload: { orderId: o.orderId, items: lines(o) } }];
        }
        if (event.type === 'payment.failed' && event.payload.paymentId === o.paymentId) {
          return [{ type: 'order.failed', occurredAt: at, payload: { orderId: o.orderId, memberId: o.memberId, reason: `payment failed: ${event.payload.reason}` } }];
        }
        return [];
      case 'reserving_stock':
        if (event.type === 'inventory.reserved') {
          return [{ type: 'shipping.create', occurredAt: at, payload: { orderId: o.orderId, memberId: o.memberId, items: lines(o) } }];
        }
        if (event.type === 'inventory.failed') {
          // Nothing is held after a failed reservation: only the payment needs compensating.
          return [refund(event.payload.reason === 'out_of_stock' ? `out of stock: ${event.payload.sku ?? 'unknown sku'}` : 'stock reservation cancelled')];
        }
        return [];
      case 'creating_shipment':
        if (event.type === 'shipment.created') {
          return [
            {
              type: 'order.completed',
              occurredAt: at,
              payload: { orderId: o.orderId, memberId: o.memberId, paymentId: o.paymentId, trackingNumber: event.payload.trackingNumber, memberships: [...o.memberships] },
            },
          ];
        }
        return [];
      case 'compensating':
        if (event.type === 'payment.refunded' && event.payload.paymentId === o.paymentId) {
          return [{ type: 'order.cancelled', occurredAt: at, payload: { orderId: o.orderId, memberId: o.memberId, reason: state.reason, refundedCents: event.payload.amountCents } }];
        }
        return [];
      case 'completed':
        // Paid and shipped, but what was bought cannot be delivered for good: give the money back.
        if (event.type === 'membership.activation.failed') return [refund(`membership could not be activated: ${event.payload.reason}`.slice(0, 500))];
        return [];
      // Terminal: late replies (a refund after a payment timeout, a shipment after cancellation)
      // change nothing; the compensation already sent covers them.
      case 'failed':
      case 'cancelled':
        return [];
      default: {
        const unreachable: never = state;
        return unreachable;
      }
    }
  }

  function evolve(state: SagaState, event: StoredSagaEvent): SagaState {
    const at = event.occurredAt;
    if (event.type === 'order.created') {
      if (state.status !== 'absent') return state;
      return {
        status: 'awaiting_payment',
        order: { ...event.payload },
        correlationId: event.correlationId,
        createdAt: at,
        updatedAt: at,
        createdPosition: event.position,
        deadlineAt: deadline(at),
      };
    }
    if (state.status === 'absent') return state;
    const common: Common = {
      order: state.order,
      correlationId: state.correlationId,
      createdAt: state.createdAt,
      updatedAt: at,
      createdPosition: state.createdPosition,
    };
    switch (event.type) {
      case 'payment.initiated':
      case 'inventory.release':
        return state;
      case 'inventory.reserve':
        return { ...common, status: 'reserving_stock', deadlineAt: deadline(at) };
      case 'shipping.create':
        return { ...common, status: 'creating_shipment', deadlineAt: deadline(at) };
      case 'payment.refund':
        if (state.status === 'completed') {
          // A fulfilment that failed after completion: the completed order is compensated.
          return { ...common, status: 'compensating', deadlineAt: deadline(at), reason: event.payload.reason, refundAttempts: 1 };
        }
        if (state.status === 'awaiting_payment' || !isOpen(state)) return state;
        return {
          ...common,
          status: 'compensating',
          deadlineAt: deadline(at),
          reason: state.status === 'compensating' ? state.reason : event.payload.reason,
          refundAttempts: (state.status === 'compensating' ? state.refundAttempts : 0) + 1,
        };
      case 'order.completed':
        return { ...common, status: 'completed', trackingNumber: event.payload.trackingNumber };
      case 'order.failed':
        return { ...common, status: 'failed', reason: event.payload.reason };
      case 'order.cancelled':
        return { ...common, status: 'cancelled', reason: event.payload.reason, refundedCents: event.payload.refundedCents };
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  }

  return { decide, evolve, initialState: initialSagaState, eventTypes: sagaEventTypes } satisfies Decider<SagaInput, SagaState, SagaEvent>;
}

export type OrderSaga = ReturnType<typeof createOrderSaga>;

/** Its own events in the order stream: the command handler folds only these. */
const sagaEventTypes: readonly SagaEventType[] = [
  'order.created',
  'payment.initiated',
  'inventory.reserve',
  'shipping.create',
  'payment.refund',
  'inventory.release',
  'order.completed',
  'order.failed',
  'order.cancelled',
];

const replyTypes: ReadonlySet<string> = new Set<string>(sagaReplyTypes);

export function isSagaReply(event: { type: string }): event is SagaReply {
  return replyTypes.has(event.type);
}

export function orderStreamId(orderId: string): string {
  return `order-${orderId}`;
}
