// The order saga's own decide and evolve, as given (the order stream so far) / when (an input at a
// time) / then (the events it appends, and the state they lead to). No store, no bus, no clock.
import { randomUUID } from 'node:crypto';
import type { EventPayload } from '../../messaging/events/catalog';
import type { StoredEvent } from '../../messaging/store/command-handler';
import { createOrderSaga, initialSagaState, type SagaEvent, type SagaInput, type SagaReply, type SagaState } from '../../subgraphs/payment/saga/order-saga';
import { makeEnvelope } from '../support/envelopes';

const saga = createOrderSaga({ stepTimeoutMs: 60_000 });
const placedAt = '2025-03-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(placedAt) + seconds * 1000);

const order = {
  orderId: 'o1',
  memberId: 'm1',
  items: [{ sku: 'MEM-PREMIUM-12', quantity: 1, unitPriceCents: 9900 }],
  totalCents: 9900,
  currency: 'EUR',
  paymentId: 'p1',
  memberships: [{ sku: 'MEM-PREMIUM-12', tier: 'premium', months: 12 }],
} as const;
const card = { token: 'tok_1', brand: 'visa', last4: '4242' };
const lines = [{ sku: 'MEM-PREMIUM-12', quantity: 1 }];
const who = { orderId: 'o1', memberId: 'm1' };

/** The saga's events as appended at `seconds` after the order was placed. */
const created = (s = 0): SagaEvent => ({ type: 'order.created', occurredAt: at(s).toISOString(), payload: { ...order, items: [...order.items], memberships: [...order.memberships] } });
const initiated = (s = 0): SagaEvent => ({
  type: 'payment.initiated',
  occurredAt: at(s).toISOString(),
  payload: { paymentId: 'p1', orderId: 'o1', memberId: 'm1', amountCents: 9900, currency: 'EUR', card },
});
const reserve = (s: number): SagaEvent => ({ type: 'inventory.reserve', occurredAt: at(s).toISOString(), payload: { orderId: 'o1', items: lines } });
const ship = (s: number): SagaEvent => ({ type: 'shipping.create', occurredAt: at(s).toISOString(), payload: { ...who, items: lines } });
const release = (s: number): SagaEvent => ({ type: 'inventory.release', occurredAt: at(s).toISOString(), payload: { orderId: 'o1', items: lines } });
const refund = (s: number, reason: string): SagaEvent => ({ type: 'payment.refund', occurredAt: at(s).toISOString(), payload: { paymentId: 'p1', ...who, reason } });
const failed = (s: number, reason: string): SagaEvent => ({ type: 'order.failed', occurredAt: at(s).toISOString(), payload: { ...who, reason } });
const completed = (s: number): SagaEvent => ({
  type: 'order.completed',
  occurredAt: at(s).toISOString(),
  payload: { ...who, paymentId: 'p1', trackingNumber: 'TRK-1', memberships: [...order.memberships] },
});
const cancelled = (s: number, reason: string): SagaEvent => ({ type: 'order.cancelled', occurredAt: at(s).toISOString(), payload: { ...who, reason, refundedCents: 9900 } });

/** A reply from another service, as the saga's consumer hands it over. */
function reply<T extends SagaReply['type']>(type: T, payload: EventPayload<T>): SagaInput {
  return { kind: 'reply', event: makeEnvelope(type, payload) as SagaReply };
}
const paid = reply('payment.completed', { paymentId: 'p1', ...who, amountCents: 9900, currency: 'EUR', chargeId: 'ch_1' });
const declined = reply('payment.failed', { paymentId: 'p1', ...who, reason: 'card_declined', message: 'Declined' });
const reserved = reply('inventory.reserved', { orderId: 'o1', items: lines });
const outOfStock = reply('inventory.failed', { orderId: 'o1', reason: 'out_of_stock', sku: 'MEM-PREMIUM-12' });
const shipped = reply('shipment.created', { ...who, shipmentId: 's1', trackingNumber: 'TRK-1', carrier: 'post' });
const refunded = reply('payment.refunded', { paymentId: 'p1', ...who, amountCents: 9900, currency: 'EUR', refundId: 'r1' });
const activationFailed = reply('membership.activation.failed', { memberId: 'm1', orderId: 'o1', sku: 'MEM-PREMIUM-12', reason: 'member deleted' });
const start: SagaInput = { kind: 'start', order, card };
const timeout: SagaInput = { kind: 'timeout' };

function fold(state: SagaState, events: readonly SagaEvent[]): SagaState {
  return events.reduce<SagaState>((s, e, i) => {
    const stored = { ...e, id: randomUUID(), schemaVersion: 1, streamId: 'order-o1', streamVersion: i + 1, position: 100 + i, recordedAt: e.occurredAt, correlationId: 'corr-1', causationId: null, actor: null, metadata: { replay: false } };
    return saga.evolve(s, stored as StoredEvent<SagaEvent>);
  }, state);
}

/** Given the order stream so far, when an input arrives at `seconds`, then these events are appended. */
function given(...history: SagaEvent[]) {
  const state = fold(initialSagaState, history);
  return {
    state,
    when(input: SagaInput, seconds = 1) {
      const decided = saga.decide(input, state, at(seconds));
      return {
        then(expected: readonly SagaEvent[]) {
          expect(decided).toEqual(expected);
          return { state: fold(state, decided) };
        },
        thenNothing() {
          expect(decided).toEqual([]);
        },
      };
    },
  };
}

const awaitingPayment = [created(), initiated()];
const reservingStock = [...awaitingPayment, reserve(5)];
const creatingShipment = [...reservingStock, ship(10)];
const compensating = [...reservingStock, refund(10, 'out of stock: MEM-PREMIUM-12')];

describe('order saga decider', () => {
  it('starts an order: records it and asks for the payment, awaiting it for one step timeout', () => {
    const { state } = given().when(start, 0).then([created(), initiated()]);
    expect(state).toMatchObject({ status: 'awaiting_payment', order, correlationId: 'corr-1', createdPosition: 100, deadlineAt: at(60).toISOString() });
  });

  it('does not start an order twice', () => {
    given(...awaitingPayment).when(start).thenNothing();
  });

  it('ignores replies and timeouts for an order it never started', () => {
    given().when(paid).thenNothing();
    given().when(timeout, 3600).thenNothing();
  });

  it('reserves stock once the payment completes, with a fresh deadline', () => {
    const { state } = given(...awaitingPayment).when(paid, 5).then([reserve(5)]);
    expect(state).toMatchObject({ status: 'reserving_stock', deadlineAt: at(65).toISOString() });
  });

  it('ignores a payment reply of another payment or another order', () => {
    given(...awaitingPayment).when(reply('payment.completed', { paymentId: 'p2', ...who, amountCents: 9900, currency: 'EUR', chargeId: 'ch_2' })).thenNothing();
    given(...awaitingPayment).when(reply('payment.completed', { paymentId: 'p1', orderId: 'o2', memberId: 'm1', amountCents: 9900, currency: 'EUR', chargeId: 'ch_2' })).thenNothing();
  });

  it('fails the order when the payment fails, naming the reason', () => {
    const { state } = given(...awaitingPayment).when(declined, 5).then([failed(5, 'payment failed: card_declined')]);
    expect(state).toMatchObject({ status: 'failed', reason: 'payment failed: card_declined' });
  });

  it('creates the shipment once stock is reserved', () => {
    const { state } = given(...reservingStock).when(reserved, 10).then([ship(10)]);
    expect(state).toMatchObject({ status: 'creating_shipment', deadlineAt: at(70).toISOString() });
  });

  it('refunds (and releases nothing) when stock cannot be reserved', () => {
    const { state } = given(...reservingStock).when(outOfStock, 10).then([refund(10, 'out of stock: MEM-PREMIUM-12')]);
    expect(state).toMatchObject({ status: 'compensating', reason: 'out of stock: MEM-PREMIUM-12', refundAttempts: 1, deadlineAt: at(70).toISOString() });
  });

  it('completes the order with the tracking number and its memberships once shipped', () => {
    const { state } = given(...creatingShipment).when(shipped, 15).then([completed(15)]);
    expect(state).toMatchObject({ status: 'completed', trackingNumber: 'TRK-1' });
    expect(state).not.toHaveProperty('deadlineAt');
  });

  it('cancels the order with the refunded amount once the refund is confirmed', () => {
    const { state } = given(...compensating).when(refunded, 20).then([cancelled(20, 'out of stock: MEM-PREMIUM-12')]);
    expect(state).toMatchObject({ status: 'cancelled', reason: 'out of stock: MEM-PREMIUM-12', refundedCents: 9900 });
  });

  it('compensates a completed order whose membership cannot be activated', () => {
    const { state } = given(...creatingShipment, completed(15)).when(activationFailed, 20).then([refund(20, 'membership could not be activated: member deleted')]);
    expect(state).toMatchObject({ status: 'compensating', refundAttempts: 1, reason: 'membership could not be activated: member deleted' });
  });

  it('ignores replies that do not belong to the current step', () => {
    given(...awaitingPayment).when(shipped).thenNothing();
    given(...reservingStock).when(paid).thenNothing();
    given(...creatingShipment).when(reserved).thenNothing();
    given(...compensating).when(shipped).thenNothing();
    given(...creatingShipment, completed(15)).when(refunded).thenNothing();
  });

  it('changes nothing on a late reply after the order ended', () => {
    for (const input of [paid, declined, reserved, outOfStock, shipped, refunded, activationFailed]) {
      given(...awaitingPayment, failed(5, 'payment failed: card_declined')).when(input, 30).thenNothing();
      given(...compensating, cancelled(20, 'out of stock: MEM-PREMIUM-12')).when(input, 30).thenNothing();
    }
  });

  describe('timeouts', () => {
    it('does nothing before the deadline, or once the order ended', () => {
      given(...awaitingPayment).when(timeout, 59).thenNothing();
      given(...reservingStock).when(timeout, 64).thenNothing();
      given(...creatingShipment, completed(15)).when(timeout, 3600).thenNothing();
      given(...awaitingPayment, failed(5, 'payment failed: card_declined')).when(timeout, 3600).thenNothing();
    });

    it('fails an unpaid order at its deadline, refunding in case the payment is still in flight', () => {
      const { state } = given(...awaitingPayment).when(timeout, 60).then([refund(60, 'payment timed out'), failed(60, 'payment timed out')]);
      expect(state).toMatchObject({ status: 'failed', reason: 'payment timed out' });
    });

    it.each([
      ['a stock reservation', reservingStock, 65, 'stock reservation timed out'],
      ['a shipment', creatingShipment, 70, 'shipping timed out'],
    ] as const)('releases the stock and refunds when %s times out', (_step, history, seconds, reason) => {
      const { state } = given(...history).when(timeout, seconds).then([release(seconds), refund(seconds, reason)]);
      expect(state).toMatchObject({ status: 'compensating', reason, refundAttempts: 1, deadlineAt: at(seconds + 60).toISOString() });
    });

    it('asks for the refund again when the compensation times out, keeping the first reason', () => {
      const { state } = given(...compensating).when(timeout, 70).then([refund(70, 'out of stock: MEM-PREMIUM-12')]);
      expect(state).toMatchObject({ status: 'compensating', reason: 'out of stock: MEM-PREMIUM-12', refundAttempts: 2, deadlineAt: at(130).toISOString() });
    });
  });
});
