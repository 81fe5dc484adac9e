// Restarts do not count against saga step deadlines: a step's time is the time workers could work
// on it (a heartbeat per timeout scan; gaps are pauses), and a reply already recorded in the store
// wins over the deadline. ManualClock throughout: workers stop, the clock moves past the deadline,
// the reply (or the step's command) waits; on restart the saga completes instead of compensating.
import { startConsumer } from '../../messaging/consumers/run-consumer';
import { inventoryConsumer } from '../../subgraphs/payment/consumers/inventory.consumer';
import { inventoryStreamId } from '../../subgraphs/payment/domain/inventory';
import type { PaymentGateway } from '../../subgraphs/payment/domain/payment-gateway';
import { SimulatedCardProcessor } from '../../subgraphs/payment/domain/simulated-card-processor';
import { orderStreamId } from '../../subgraphs/payment/saga/order-saga';
import { downtimeGapMs, pausedMs, recordBeat, stepOverdue, type Pause } from '../../subgraphs/payment/saga/worker-downtime';
import { eventually } from '../support/wait';
import { startPaymentHarness, type PaymentHarness } from './support/payment-harness';

const at = (iso: string) => new Date(`2025-03-01T${iso}Z`);

describe('worker downtime (pure)', () => {
  const gap = downtimeGapMs(1000);

  it('records a gap between heartbeats longer than a few scan intervals as a pause, and no other', () => {
    let record = recordBeat(null, at('10:00:00'), gap);
    record = recordBeat(record, at('10:00:01'), gap);
    record = recordBeat(record, at('10:00:04'), gap);
    expect(record.pauses).toEqual([]);
    record = recordBeat(record, at('10:01:07'), gap);
    expect(record.pauses).toEqual([{ from: at('10:00:04').toISOString(), to: at('10:01:07').toISOString() }]);
    expect(record.lastBeatAt).toBe(at('10:01:07').toISOString());
  });

  it('counts the beats of every worker: no pause while any of them runs', () => {
    let record = recordBeat(null, at('10:00:00'), gap);
    // Two workers beating out of step, one of them a little behind: never a gap.
    for (const t of ['10:00:01', '10:00:00.500', '10:00:02', '10:00:03', '10:00:02.900']) record = recordBeat(record, at(t), gap);
    expect(record.pauses).toEqual([]);
    expect(record.lastBeatAt).toBe(at('10:00:03').toISOString());
  });

  it('forgets pauses older than a week', () => {
    let record = recordBeat(null, at('10:00:00'), gap);
    record = recordBeat(record, at('10:10:00'), gap);
    expect(record.pauses).toHaveLength(1);
    record = recordBeat(record, new Date(at('10:10:00').getTime() + 8 * 24 * 3_600_000), gap);
    expect(record.pauses).toHaveLength(1);
    expect(record.pauses[0]?.from).toBe(at('10:10:00').toISOString());
  });

  it('measures a step by the time outside pauses', () => {
    const pauses: Pause[] = [{ from: at('10:00:10').toISOString(), to: at('10:01:13').toISOString() }];
    expect(pausedMs(pauses, at('10:00:00'), at('10:02:00'))).toBe(63_000);
    expect(pausedMs(pauses, at('10:00:30'), at('10:01:00'))).toBe(30_000);
    // Step started 10:00:00 with 30 s: 10 s before the pause, 20 s after it, due at 10:01:33.
    expect(stepOverdue(at('10:00:30').toISOString(), 30_000, at('10:01:32'), pauses)).toBe(false);
    expect(stepOverdue(at('10:00:30').toISOString(), 30_000, at('10:01:33'), pauses)).toBe(true);
    // Without pauses the deadline is the deadline.
    expect(stepOverdue(at('10:00:30').toISOString(), 30_000, at('10:00:30'), [])).toBe(true);
    expect(stepOverdue(at('10:00:30').toISOString(), 30_000, at('10:00:29.999'), [])).toBe(false);
  });
});

describe('order saga across a restart longer than the step timeout (60 s)', () => {
  let h: PaymentHarness;
  beforeEach(async () => {
    h = await startPaymentHarness();
    await h.runFor(1000);
  });
  afterEach(async () => {
    await h.close();
  });

  const consumer = (name: string) => h.workers.consumers.find((c) => c.queue.endsWith(name));
  const streamTypes = async (stream: string) => (await h.backends.store.readStream(stream)).map((e) => e.type);

  it('completes an order whose stock reservation was recorded before a 63 s restart', async () => {
    // The reservation is made while the saga's consumer is stopped, so its reply waits in the queue.
    const inventoryQueue = consumer('inventory')?.queue ?? 'membership.inventory';
    await consumer('inventory')?.close();
    const order = await h.order('m-restart', [{ sku: 'GOODS-HANDBOOK', quantity: 1 }]);
    await eventually(async () => (await h.workers.payment.slice.orders.get(order.id))?.status === 'reserving_stock', 'the saga to wait for stock');
    await consumer('order-saga')?.close();
    // The stock service answers (a consumer on its queue), but the saga's consumer is not there.
    const definition = inventoryConsumer({ inventory: h.workers.payment.slice.inventory, store: h.backends.store });
    const inventory = await startConsumer(h.backends.bus, h.backends.documents, { ...definition, name: inventoryQueue }, { clock: h.clock });
    await eventually(async () => (await streamTypes(inventoryStreamId(order.id))).includes('inventory.reserved'), 'the reservation to be recorded');
    await inventory.close();
    await h.runFor(10_000);

    // Workers stop; 63 s pass; the restarted worker's first timeout scan runs before its consumers
    // have taken their backlog (this scanner is the stopped workers' one, on the same store).
    const stopped = h.workers;
    await stopped.close();
    h.clock.advance(63_000);
    expect(await stopped.payment.timeouts.scanOnce()).toBe(0);

    await h.startWorkers();
    expect(await h.settled(order.id)).toMatchObject({ status: 'completed', failureReason: null });
    expect(await streamTypes(orderStreamId(order.id))).not.toContain('payment.refund');
  });

  it("does not count the restart against a step, but still times the step out once its own time is used", async () => {
    // A card processor that is down: the payment step never gets an answer.
    const processor = new SimulatedCardProcessor(h.backends.documents);
    const down: PaymentGateway = {
      tokenize: (card, now) => processor.tokenize(card, now),
      authorize: async () => {
        throw new Error('card processor unreachable');
      },
      capture: (request) => processor.capture(request),
      refund: (request) => processor.refund(request),
    };
    await h.workers.close();
    await h.startWorkers({ gateway: down });
    const order = await h.order('m-restart-2', [{ sku: 'COURSE-AUDIT', quantity: 1 }]);
    expect(await h.runFor(20_000)).toBe(0);
    const stopped = h.workers;
    await stopped.close();
    h.clock.advance(63_000);
    // 20 s of the step used before the stop; the 63 s stop does not count.
    expect(await stopped.payment.timeouts.scanOnce()).toBe(0);

    await h.startWorkers({ gateway: down });
    expect(await h.runFor(39_000)).toBe(0);
    expect(await h.runFor(2000)).toBe(1);
    expect(await h.settled(order.id)).toMatchObject({ status: 'failed', failureReason: 'payment timed out' });
  });

  it('takes a reply already recorded instead of timing out, when the saga consumer is behind', async () => {
    await consumer('order-saga')?.close();
    const order = await h.order('m-behind', [{ sku: 'COURSE-AUDIT', quantity: 1 }]);
    await eventually(async () => (await streamTypes(`payment-${order.paymentId}`)).includes('payment.completed'), 'the payment to be recorded');
    // The deadline passes while workers run, the reply still queued for the stopped consumer.
    expect(await h.runFor(61_000)).toBe(0);
    expect((await h.workers.payment.slice.orders.get(order.id))?.status).not.toBe('failed');
    expect(await streamTypes(orderStreamId(order.id))).toContain('inventory.reserve');
    // The consumer catches up: its delivery of the same reply changes nothing, the saga goes on.
    await h.workers.close();
    await h.startWorkers();
    expect(await h.settled(order.id)).toMatchObject({ status: 'completed' });
  });
});
