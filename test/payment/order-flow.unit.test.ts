// The order saga end to end on in-memory backends: the seed's happy path, payment failures, stock
// failure with refund, step timeouts by a ManualClock, redeliveries, membership activation,
// notifications and the ledger.
import { randomUUID } from 'node:crypto';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import type { SimulatedCardProcessor } from '../../subgraphs/payment/domain/simulated-card-processor';
import { notificationsCollection } from '../../subgraphs/payment/consumers/notification.consumer';
import { admin, card, startPaymentHarness, type PaymentHarness } from './support/payment-harness';

async function typesOf(h: PaymentHarness, orderId: string): Promise<string[]> {
  const events: string[] = [];
  for await (const batch of h.backends.store.readAll()) {
    for (const e of batch) if ((e.payload as { orderId?: string }).orderId === orderId) events.push(e.type);
  }
  return events;
}

describe('order saga (in-memory backends)', () => {
  let h: PaymentHarness;
  beforeEach(async () => {
    h = await startPaymentHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('completes an order: payment, stock, shipment, tracking number; activates the membership; notifies; posts to the ledger', async () => {
    const memberId = `m-${randomUUID().slice(0, 8)}`;
    await h.members.create(admin, { id: memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'L' }, { correlationId: 'c' });
    const order = await h.order(memberId, [{ sku: 'MEM-PREMIUM-12', quantity: 1 }, { sku: 'GOODS-HANDBOOK', quantity: 2 }]);
    expect(order).toMatchObject({ status: 'awaiting_payment', totalCents: 12900 + 2 * 2500, open: true });
    const done = await h.settled(order.id);
    expect(done).toMatchObject({ status: 'completed', trackingNumber: expect.stringMatching(/^PS[0-9A-F]{12}$/) });
    expect(await typesOf(h, order.id)).toEqual(
      expect.arrayContaining([
        'order.created', 'payment.initiated', 'payment.authorized', 'payment.completed', 'inventory.reserve', 'inventory.reserved',
        'shipping.create', 'shipment.created', 'order.completed', 'transaction.recorded', 'notification.sent',
      ]),
    );
    const slice = h.workers.payment.slice;
    expect(await slice.payments.get(order.paymentId)).toMatchObject({ status: 'completed', cardLast4: '4242' });
    expect(await slice.inventory.available('GOODS-HANDBOOK')).toBe(498);
    expect((await slice.inventory.stock.get('GOODS-HANDBOOK'))?.holds).toEqual({});
    const member = await (async () => {
      for (let i = 0; i < 200; i++) {
        const m = await h.members.get(memberId);
        if (m?.member.tier === 'premium') return m;
        await new Promise((r) => setTimeout(r, 10));
      }
      return h.members.get(memberId);
    })();
    expect(member?.member).toMatchObject({ tier: 'premium', membershipExpiresAt: '2026-03-01T10:00:00.000Z' });
    const balances = await slice.ledger.balances();
    expect(balances.reduce((s, b) => s + b.balanceCents, 0)).toBe(0);
    expect(balances).toContainEqual({ account: 'income:sales', balanceCents: -(12900 + 5000) });
    const notes = await notificationsCollection(h.backends.documents).find({ where: { orderId: order.id } });
    expect(notes.map((n) => n.template)).toEqual(['payment_received']);
  });

  it.each([
    ['declined', testCards.declined, 'payment failed: card_declined'],
    ['insufficient funds', testCards.insufficientFunds, 'payment failed: insufficient_funds'],
  ])('fails an order whose card is %s, taking no money and holding no stock', async (_label, number, reason) => {
    const order = await h.order('m-pay', [{ sku: 'GOODS-HANDBOOK', quantity: 1 }], number);
    expect(await h.settled(order.id)).toMatchObject({ status: 'failed', failureReason: reason });
    expect(await typesOf(h, order.id)).not.toContain('inventory.reserve');
    expect(await h.workers.payment.slice.payments.get(order.paymentId)).toMatchObject({ status: 'failed' });
    expect(await h.workers.payment.slice.inventory.available('GOODS-HANDBOOK')).toBe(500);
    expect(await h.workers.payment.slice.ledger.transactions.count()).toBe(0);
  });

  it('retries a flaky processor with backoff and charges once', async () => {
    const order = await h.order('m-flaky', [{ sku: 'COURSE-ETHICS', quantity: 1 }], testCards.networkError);
    expect(await h.settled(order.id)).toMatchObject({ status: 'completed' });
    const record = await (h.workers.payment.slice.gateway as SimulatedCardProcessor).records.get(order.paymentId);
    expect(record).toMatchObject({ status: 'captured', captures: 1, authorizeCalls: 3 });
  });

  it('refunds and cancels an order when stock runs out', async () => {
    await h.workers.payment.slice.inventory.setAvailable('GOODS-HANDBOOK', 1);
    const order = await h.order('m-stock', [{ sku: 'GOODS-HANDBOOK', quantity: 2 }]);
    expect(await h.settled(order.id)).toMatchObject({ status: 'cancelled', refundedCents: 5000, failureReason: 'out of stock: GOODS-HANDBOOK' });
    expect(await typesOf(h, order.id)).toEqual(expect.arrayContaining(['inventory.failed', 'payment.refund', 'payment.refunded', 'order.cancelled']));
    const slice = h.workers.payment.slice;
    expect(await slice.payments.get(order.paymentId)).toMatchObject({ status: 'refunded', refundedCents: 5000 });
    expect(await slice.inventory.available('GOODS-HANDBOOK')).toBe(1);
    const record = await (slice.gateway as SimulatedCardProcessor).records.get(order.paymentId);
    expect(record).toMatchObject({ captures: 1, refunds: 1 });
    const balances = await slice.ledger.balances();
    expect(balances.reduce((s, b) => s + b.balanceCents, 0)).toBe(0);
    expect(balances).toContainEqual({ account: 'assets:processor-clearing', balanceCents: 0 });
  });

  it('never oversells: of many concurrent orders for the last units, only as many as in stock complete', async () => {
    await h.workers.payment.slice.inventory.setAvailable('GOODS-HANDBOOK', 5);
    const orders = await Promise.all(Array.from({ length: 12 }, (_, i) => h.order(`m-race-${i}`, [{ sku: 'GOODS-HANDBOOK', quantity: 1 }])));
    const final = await Promise.all(orders.map((o) => h.settled(o.id)));
    expect(final.filter((o) => o.status === 'completed')).toHaveLength(5);
    expect(final.filter((o) => o.status === 'cancelled')).toHaveLength(7);
    expect(await h.workers.payment.slice.inventory.available('GOODS-HANDBOOK')).toBe(0);
  });

  it('starts compensation when a step times out: stock never answered, so refund, release and cancel', async () => {
    // No inventory service: stop the workers, start them again without the inventory consumer.
    await h.workers.close();
    const workers = await h.startWorkers();
    const inventory = workers.consumers.find((c) => c.queue.endsWith('inventory'));
    await inventory?.close();
    const order = await h.order('m-timeout', [{ sku: 'GOODS-HANDBOOK', quantity: 1 }]);
    const slice = workers.payment.slice;
    await expect(
      (async () => {
        for (let i = 0; i < 500; i++) {
          if ((await slice.orders.get(order.id))?.status === 'reserving_stock') return true;
          await new Promise((r) => setTimeout(r, 10));
        }
        return false;
      })(),
    ).resolves.toBe(true);
    expect(await workers.payment.timeouts.scanOnce()).toBe(0);
    expect(await h.runFor(60_001)).toBe(1);
    expect(await h.settled(order.id)).toMatchObject({ status: 'cancelled', failureReason: 'stock reservation timed out', refundedCents: 2500 });
    expect(await typesOf(h, order.id)).toEqual(expect.arrayContaining(['inventory.release', 'payment.refund', 'payment.refunded', 'order.cancelled']));
  });

  it('fails an order whose payment never answers, and cancels the payment at the gateway', async () => {
    await h.workers.close();
    const workers = await h.startWorkers();
    await workers.consumers.find((c) => c.queue.endsWith('payment-service'))?.close();
    const order = await h.order('m-slowpay', [{ sku: 'COURSE-AUDIT', quantity: 1 }]);
    expect(await h.runFor(60_001)).toBe(1);
    expect(await h.settled(order.id)).toMatchObject({ status: 'failed', failureReason: 'payment timed out' });
    // The payment service comes back: the refund cancelled the key, so the late charge is refused.
    await h.workers.close();
    await h.startWorkers();
    const slice = h.workers.payment.slice;
    const record = await (async () => {
      for (let i = 0; i < 500; i++) {
        const p = await slice.payments.get(order.paymentId);
        if (p?.status === 'failed' || p?.status === 'refunded') return (slice.gateway as SimulatedCardProcessor).records.get(order.paymentId);
        await new Promise((r) => setTimeout(r, 10));
      }
      return null;
    })();
    expect(record).toMatchObject({ captures: 0 });
    expect((await slice.orders.get(order.id))?.status).toBe('failed');
  });

  it('refuses bad input with a coded error and stores nothing', async () => {
    const service = h.workers.payment.slice.orderService;
    const ctx = { correlationId: 'c' };
    const head = await h.backends.store.headPosition();
    await expect(service.create(admin, { memberId: 'm', items: [{ sku: 'NOPE', quantity: 1 }], card: card() }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'items.0.sku' } });
    await expect(service.create(admin, { memberId: 'm', items: [{ sku: 'COURSE-AUDIT', quantity: 0 }], card: card() }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'items.0.quantity' } });
    await expect(service.create(admin, { memberId: 'm', items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card: card('4242424242424241') }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'card.number' } });
    await expect(service.create(admin, { memberId: 'm', items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card: { ...card(), expYear: 2020 } }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.create({ sub: 'm1', role: 'member', expiresAt: null }, { memberId: 'm2', items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card: card() }, ctx)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await h.backends.store.headPosition()).toBe(head);
    expect(await h.workers.payment.slice.payments.count()).toBe(0);
  });
});
