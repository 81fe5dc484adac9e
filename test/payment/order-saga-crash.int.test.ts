// Crash safety on the embedded SQLite store and real RabbitMQ: workers are stopped mid-flow (and a
// processor answer is lost after money moved, so deliveries are repeated), new workers start on
// the same backends, and every saga still reaches exactly one final state with no double charge,
// no double refund and a balanced ledger.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createBackends, type Backends } from '../../messaging/backends';
import { systemClock } from '../../platform/clock';
import { loadConfig } from '../../platform/config';
import type { CaptureResult, PaymentGateway } from '../../subgraphs/payment/domain/payment-gateway';
import { SimulatedCardProcessor, testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { orderStreamId } from '../../subgraphs/payment/saga/order-saga';
import { eventually } from '../support/wait';
import { startPaymentHarness, type PaymentHarness } from './support/payment-harness';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('saga-crash');

/** Loses the answer of the first capture per payment after the money moved (a crash right after the charge). */
class LosingAnswers implements PaymentGateway {
  private readonly lost = new Set<string>();
  constructor(private readonly inner: SimulatedCardProcessor) {}
  tokenize: PaymentGateway['tokenize'] = (card, now) => this.inner.tokenize(card, now);
  authorize: PaymentGateway['authorize'] = (request) => this.inner.authorize(request);
  refund: PaymentGateway['refund'] = (request) => this.inner.refund(request);
  capture = async (request: { idempotencyKey: string; authorizationId: string }): Promise<CaptureResult> => {
    const result = await this.inner.capture(request);
    if (!this.lost.has(request.idempotencyKey)) {
      this.lost.add(request.idempotencyKey);
      throw new Error('worker died after the charge, before recording it');
    }
    return result;
  };
}

describe('order saga crash and restart (SQLite store, RabbitMQ)', () => {
  let dataDir: string;
  let backends: Backends;
  let h: PaymentHarness;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-crash-'));
    backends = await createBackends(loadConfig({ DATA_DIR: dataDir, RABBITMQ_URL: broker.url }), systemClock);
  });
  afterAll(async () => {
    await h?.close();
    await backends.close();
    await broker.delete();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('every saga ends once, with no double charge or refund, after workers die mid-flow', async () => {
    const processor = new SimulatedCardProcessor(backends.documents);
    h = await startPaymentHarness({ backends, overrides: { gateway: new LosingAnswers(processor) } });
    await h.workers.payment.slice.inventory.setAvailable('GOODS-HANDBOOK', 10);
    const cards = [testCards.success, testCards.success, testCards.declined, testCards.networkError];
    const orders = [];
    for (let i = 0; i < 24; i++) {
      orders.push(await h.order(`m-crash-${i % 5}`, [{ sku: i % 2 ? 'GOODS-HANDBOOK' : 'COURSE-ETHICS', quantity: 1 }], cards[i % cards.length]));
    }
    // Let some sagas move, then stop every worker mid-flow.
    await eventually(async () => (await h.workers.payment.slice.orders.count({ status: 'reserving_stock' })) + (await h.workers.payment.slice.orders.count({ status: 'completed' })) > 0, 'some progress');
    await h.workers.close();
    const midway = await h.workers.payment.slice.orders.count({ open: true });
    // New workers on the same backends (and the same queues), with a processor that answers.
    await h.startWorkers({ gateway: processor });
    const final = await Promise.all(orders.map((o) => h.settled(o.id, 30_000)));

    expect(midway).toBeGreaterThan(0);
    for (const order of final) {
      const stream = await backends.store.readStream(orderStreamId(order.id));
      const terminal = stream.filter((e) => e.type === 'order.completed' || e.type === 'order.failed' || e.type === 'order.cancelled');
      expect(terminal).toHaveLength(1);
      const record = await processor.records.get(order.paymentId);
      expect(record?.captures ?? 0).toBeLessThanOrEqual(1);
      expect(record?.refunds ?? 0).toBeLessThanOrEqual(1);
      if (order.status === 'completed') expect(record).toMatchObject({ status: 'captured', captures: 1 });
      if (order.status === 'failed') expect(record?.captures ?? 0).toBe(0);
      if (order.status === 'cancelled') expect(record).toMatchObject({ captures: 1, refunds: 1 });
    }
    const handbooksSold = final.filter((o) => o.status === 'completed' && o.items[0]?.sku === 'GOODS-HANDBOOK').length;
    expect(await h.workers.payment.slice.inventory.available('GOODS-HANDBOOK')).toBe(10 - handbooksSold);
    const ledger = h.workers.payment.slice.ledger;
    await eventually(async () => (await ledger.transactions.count()) === final.filter((o) => o.status === 'completed').length + final.filter((o) => o.status === 'cancelled').length * 2, 'every capture and refund posted', 15_000);
    const balances = await ledger.balances();
    expect(balances.reduce((s, b) => s + b.balanceCents, 0)).toBe(0);
    // Redelivered payment messages were acknowledged without charging again.
    const paymentEvents: string[] = [];
    for await (const batch of backends.store.readAll({ types: ['payment.completed'] })) for (const e of batch) if (e.type === 'payment.completed') paymentEvents.push(e.payload.paymentId);
    expect(new Set(paymentEvents).size).toBe(paymentEvents.length);
  }, 90_000);
});
