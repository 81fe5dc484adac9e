// The parked list: what the relay set aside, once; admins republish or skip each event, audited.
import { ack, type EventBus } from '../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { metricsRegistry } from '../../messaging/monitor/metrics';
import { ParkedEvents } from '../../messaging/outbox/parked-events';
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { ManualClock } from '../../platform/clock';
import { DomainError } from '../../platform/errors';
import { loggerFor } from '../../platform/logger';
import { unhealthy } from '../../platform/health';
import { eventually } from '../support/wait';

const admin = { id: 'ops', role: 'admin' as const };

async function setup(bus: EventBus = new InProcessEventBus({ maxMessageBytes: 2048 })) {
  const clock = new ManualClock('2025-03-01T10:00:00.000Z');
  const store = new MemoryEventStore(clock);
  const documents = new MemoryDocumentStore();
  const parked = new ParkedEvents({ store, bus, documents, clock, logger: loggerFor('test') });
  const [event] = (
    await store.append(
      'member-m1',
      [{ type: 'member.profile.updated', payload: { memberId: 'm1', changes: { bio: { before: null, after: 'x'.repeat(4096) } } } }],
      { expectedVersion: 'any', context: { correlationId: 'corr-1' } },
    )
  ).events;
  if (!event) throw new Error('no event');
  return { clock, store, bus, documents, parked, event };
}

async function audit(store: MemoryEventStore) {
  const events = [];
  for await (const batch of store.readAll({ types: ['outbox.event.parked', 'outbox.event.republished', 'outbox.event.skipped'] })) events.push(...batch);
  return events.map((e) => ({ type: e.type, actor: e.actor, payload: e.payload }));
}

async function gauge(): Promise<number | undefined> {
  const metric = await metricsRegistry.getSingleMetric('membership_outbox_parked_events')?.get();
  return metric?.values[0]?.value;
}

describe('parked events', () => {
  it('records a parked event once, audited, counted by the gauge', async () => {
    const { store, parked, event } = await setup();
    await parked.park(event, 'too large');
    await parked.park(event, 'too large again'); // the relay met it again after a restart
    expect(await parked.list('parked', 10)).toEqual([
      expect.objectContaining({ id: event.id, type: 'member.profile.updated', position: 1, status: 'parked', reason: 'too large', failedAttempts: 1 }),
    ]);
    expect(await gauge()).toBe(1);
    expect(await audit(store)).toEqual([
      {
        type: 'outbox.event.parked',
        actor: { id: 'outbox-relay', role: 'system' },
        payload: { eventId: event.id, eventType: 'member.profile.updated', streamId: 'member-m1', position: 1, reason: 'too large' },
      },
    ]);
  });

  it('republishes a parked event once the bus takes it, and audits who did', async () => {
    const bus = new InProcessEventBus({ maxMessageBytes: 2048 });
    const { store, documents, parked, event } = await setup(bus);
    await parked.park(event, 'too large');
    // Still refused: stays parked, with one more failed attempt.
    await expect(parked.republish(event.id, admin, 'c')).rejects.toMatchObject({ code: 'INVALID_EVENT', message: expect.stringMatching(/still cannot publish/) });
    expect(await parked.get(event.id)).toMatchObject({ status: 'parked', failedAttempts: 2 });

    // The cause fixed (here: a bus that takes larger messages), the event goes out.
    const fixed = new InProcessEventBus();
    const received: string[] = [];
    await fixed.consume({ queue: 'late', bindings: ['#'] }, async (e) => {
      received.push(e.id);
      return ack;
    });
    const withFixedBus = new ParkedEvents({ store, bus: fixed, documents, clock: new ManualClock(), logger: loggerFor('test') });
    expect(await withFixedBus.republish(event.id, admin, 'c')).toMatchObject({ status: 'republished', resolvedBy: 'ops' });
    await eventually(() => received.includes(event.id), 'the republished event');
    await expect(withFixedBus.republish(event.id, admin, 'c')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect((await audit(store)).map((a) => [a.type, a.actor])).toEqual([
      ['outbox.event.parked', { id: 'outbox-relay', role: 'system' }],
      ['outbox.event.republished', admin],
    ]);
    expect(await withFixedBus.count('parked')).toBe(0);
  });

  it('answers UNAVAILABLE, keeping the event parked, when the bus is down', async () => {
    const down: EventBus = {
      publish: async () => {
        throw new DomainError('UNAVAILABLE', 'broker unreachable');
      },
      consume: async () => ({ queue: 'x', close: async () => undefined }),
      deadLetterCount: async () => 0,
      peekDeadLetters: async () => [],
      settleDeadLetter: async () => null,
      health: async () => unhealthy('event bus', 'broker unreachable'),
      close: async () => undefined,
    };
    const { parked, event } = await setup(down);
    await parked.park(event, 'too large');
    await expect(parked.republish(event.id, admin, 'c')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await parked.get(event.id)).toMatchObject({ status: 'parked', failedAttempts: 1 });
  });

  it('skips a parked event with a reason, audited; unknown ids are NOT_FOUND', async () => {
    const { store, parked, event } = await setup();
    await parked.park(event, 'too large');
    expect(await parked.skip(event.id, 'imported by mistake', admin, 'c')).toMatchObject({ status: 'skipped', note: 'imported by mistake', resolvedBy: 'ops' });
    await expect(parked.skip(event.id, 'again', admin, 'c')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(parked.republish('nope', admin, 'c')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await audit(store)).at(-1)).toMatchObject({ type: 'outbox.event.skipped', actor: admin, payload: { reason: 'imported by mistake' } });
    expect(await parked.list('parked', 10)).toEqual([]);
    expect(await parked.list(null, 10)).toHaveLength(1);
  });
});
