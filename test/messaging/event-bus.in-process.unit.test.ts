// The in-process EventBus: the shared contract, plus what only injected timers can show.
import { ack, retry, type DeliverySettlement } from '../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { createEventBus, eventBusOptionsFor } from '../../messaging/bus/create-event-bus';
import { decodeEvent, settle } from '../../messaging/bus/delivery-policy';
import { ManualClock } from '../../platform/clock';
import { eventBusContract, Watch } from '../contracts/event-bus.contract';
import { makeEnvelope, makeInvalidEnvelope } from '../support/envelopes';

describe('InProcessEventBus (contract)', () => {
  eventBusContract({
    create: (deps, options) => createEventBus({ kind: 'in-process', ...options }, deps),
    deleteQueue: async () => undefined,
    isolated: true,
  });
});

describe('InProcessEventBus', () => {
  it('holds a retried message for retryDelayMs of clock time, then redelivers it', async () => {
    const clock = new ManualClock();
    const settlements = new Watch<DeliverySettlement>();
    const bus = new InProcessEventBus({ timers: clock, observer: { settled: (s) => settlements.push(s) } });
    const attempts: number[] = [];
    await bus.consume({ queue: 'crm', bindings: ['member.*'], retryDelayMs: 5000 }, async (_e, d) => {
      attempts.push(d.attempt);
      return d.attempt === 1 ? retry('crm down') : ack;
    });
    const event = makeEnvelope('member.created');
    await bus.publish([event]);
    await settlements.until((s) => s.length === 1, 'the first outcome');

    clock.advance(4999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toEqual([1]);
    clock.advance(1);
    await settlements.until((s) => s.some((x) => x.outcome === 'ack'), 'the ack');
    expect(attempts).toEqual([1, 2]);
    await bus.close();
  });

  it('stamps dead letters with the injected clock', async () => {
    const clock = new ManualClock('2025-03-01T10:00:00.000Z');
    const settlements = new Watch<DeliverySettlement>();
    const bus = new InProcessEventBus({ clock, observer: { settled: (s) => settlements.push(s) } });
    await bus.consume({ queue: 'audit', bindings: ['#'] }, async () => ack);
    await bus.publish([makeInvalidEnvelope('member.created', {})]);
    await settlements.until((s) => s.length === 1, 'the dead letter');
    const [letter] = await bus.peekDeadLetters('audit', 10);
    expect(letter?.deadLetteredAt).toBe('2025-03-01T10:00:00.000Z');
    await bus.close();
  });

  it('drops pending retries of an exclusive queue when it is removed', async () => {
    const clock = new ManualClock();
    const settlements = new Watch<DeliverySettlement>();
    const bus = new InProcessEventBus({ timers: clock, observer: { settled: (s) => settlements.push(s) } });
    const consumer = await bus.consume({ queue: 'live', bindings: ['#'], exclusive: true }, async () => retry('later'));
    await bus.publish([makeEnvelope('email.sent')]);
    await settlements.until((s) => s.length === 1, 'the retry');
    expect(clock.pendingTimers).toBe(1);
    await consumer.close();
    expect(clock.pendingTimers).toBe(0);
    await bus.close();
  });

  it('discards (and reports) dead letters of an exclusive queue instead of keeping them', async () => {
    const settlements = new Watch<DeliverySettlement>();
    const bus = new InProcessEventBus({ observer: { settled: (s) => settlements.push(s) } });
    await bus.consume({ queue: 'live', bindings: ['#'], exclusive: true }, async () => ack);
    await bus.publish([makeInvalidEnvelope('test.unknown', {})]);
    await settlements.until((s) => s.length === 1, 'the settlement');
    expect(settlements.items[0]?.outcome).toBe('discarded');
    expect(await bus.deadLetterCount('live')).toBe(0);
    await bus.close();
  });

  it('refuses to reuse a durable queue name as an exclusive queue', async () => {
    const bus = new InProcessEventBus();
    await bus.consume({ queue: 'crm', bindings: ['#'] }, async () => ack);
    await expect(bus.consume({ queue: 'crm', bindings: ['#'], exclusive: true }, async () => ack)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await bus.close();
  });

  it('keeps a handler from mutating the copy another queue receives', async () => {
    const bus = new InProcessEventBus();
    const seen = new Watch<string>();
    await bus.consume({ queue: 'a', bindings: ['#'] }, async (e) => {
      (e.payload as { memberId: string }).memberId = 'mutated';
      seen.push('a');
      return ack;
    });
    await bus.consume({ queue: 'b', bindings: ['#'] }, async (e) => {
      seen.push(`b:${(e.payload as { memberId: string }).memberId}`);
      return ack;
    });
    await bus.publish([makeEnvelope('member.created')]);
    await seen.until((s) => s.length === 2, 'both deliveries');
    expect(seen.items).toContain('b:m-1');
    await bus.close();
  });

  it('chooses the in-process bus when RABBITMQ_URL is unset or empty', () => {
    expect(eventBusOptionsFor(undefined)).toEqual({ kind: 'in-process' });
    expect(eventBusOptionsFor('')).toEqual({ kind: 'in-process' });
    expect(eventBusOptionsFor('amqp://x')).toEqual({ kind: 'rabbitmq', url: 'amqp://x' });
  });
});

describe('delivery policy', () => {
  it('turns a retry on the last attempt into a dead letter that keeps the reason', () => {
    expect(settle(retry('db down'), 2, 3)).toEqual({ action: 'retry', reason: 'db down', nextAttempt: 3 });
    const last = settle(retry('db down'), 3, 3);
    expect(last.action).toBe('dead-letter');
    expect(last.action === 'dead-letter' && last.reason).toContain('db down');
  });

  it('refuses a body that is not an envelope, naming the field', () => {
    expect(decodeEvent('nope')).toMatchObject({ ok: false, reason: expect.stringContaining('not a JSON object') });
    expect(decodeEvent({ ...makeEnvelope('member.created'), id: 5 })).toMatchObject({ ok: false, reason: expect.stringContaining('"id"') });
    expect(decodeEvent({ ...makeEnvelope('member.created'), metadata: null })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"metadata"'),
    });
  });
});
