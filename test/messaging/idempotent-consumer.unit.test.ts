// Idempotent consumers over in-memory pieces: the wrapper called directly with envelopes and
// deliveries, and the same consumer started on the in-process bus.
import type { DeliverySettlement } from '../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { clearReplayMarkers, processedKey, processedMarkers } from '../../messaging/consumers/consumer-records';
import { consumerLag, readConsumerCheckpoint } from '../../messaging/consumers/consumer-checkpoints';
import { createIdempotentHandler } from '../../messaging/consumers/idempotent-consumer';
import { defineConsumer, outcomeOfFailure, type ConsumerContext, type ConsumerDefinition, type HandledEvent } from '../../messaging/consumers/consumer-definition';
import { startConsumer } from '../../messaging/consumers/run-consumer';
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import { SqliteDocumentStore } from '../../messaging/state/sqlite-document-store';
import type { Doc, DocumentStore } from '../../messaging/state/document-store';
import { ManualClock } from '../../platform/clock';
import { DomainError, IllegalStateError, UnavailableError, ValidationError } from '../../platform/errors';
import { asReplay, delivery, eventAt, FlakyDocumentStore, Recorder } from '../support/consumer-fixtures';
import { makeEnvelope } from '../support/envelopes';

type Seen = { type: string; id: string; replay: boolean; replayId: string | null; effectKey: string };

/** A consumer that records what it saw and can be told to fail. */
function recordingConsumer(name = 'crm-sync') {
  const seen: Seen[] = [];
  const failures: Error[] = [];
  const definition = defineConsumer({
    name,
    handles: ['member.created', 'member.profile.updated'],
    handle: async (event, ctx) => {
      seen.push({ type: event.type, id: event.id, replay: ctx.replay, replayId: ctx.replayId, effectKey: ctx.effectKey });
      const failure = failures.shift();
      if (failure) throw failure;
    },
  });
  return { definition, seen, failNextWith: (error: Error) => failures.push(error) };
}

describe('idempotent consumer (wrapper)', () => {
  let store: DocumentStore;
  let clock: ManualClock;
  beforeEach(() => {
    store = new MemoryDocumentStore();
    clock = new ManualClock('2025-03-01T12:00:00.000Z');
  });

  it('handles a redelivered event once and acknowledges the repeat', async () => {
    const { definition, seen } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });
    const event = eventAt('member.created', 4);

    expect(await handler(event, delivery())).toEqual({ kind: 'ack' });
    expect(await handler(event, delivery({ redelivered: true }))).toEqual({ kind: 'ack' });
    expect(await handler(event, delivery({ attempt: 2 }))).toEqual({ kind: 'ack' });

    expect(seen).toHaveLength(1);
    const checkpoint = await readConsumerCheckpoint(store, 'crm-sync');
    expect(checkpoint).toMatchObject({ processed: 1, skippedDuplicates: 2, position: 4 });
  });

  it('retries a failed handler and records the event only after it succeeds', async () => {
    const { definition, seen, failNextWith } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });
    const event = eventAt('member.profile.updated', 9);
    failNextWith(new Error('CRM timed out'));

    expect(await handler(event, delivery())).toEqual({ kind: 'retry', reason: 'Error: CRM timed out' });
    expect(await processedMarkers(store).get(processedKey('crm-sync', event))).toBeNull();
    expect((await readConsumerCheckpoint(store, 'crm-sync')).processed).toBe(0);

    expect(await handler(event, delivery({ attempt: 2 }))).toEqual({ kind: 'ack' });
    expect(seen).toHaveLength(2);
    expect(await processedMarkers(store).get(processedKey('crm-sync', event))).toMatchObject({
      consumer: 'crm-sync',
      eventId: event.id,
      type: 'member.profile.updated',
      position: 9,
      mode: 'live',
      processedAt: '2025-03-01T12:00:00.000Z',
    });
  });

  it('dead-letters events that cannot succeed and retries everything else', async () => {
    const { definition, failNextWith } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });

    failNextWith(new ValidationError('memberId is unknown to the CRM'));
    expect(await handler(eventAt('member.created', 1), delivery())).toEqual({
      kind: 'dead-letter',
      reason: 'BAD_USER_INPUT: memberId is unknown to the CRM',
    });
    failNextWith(new DomainError('INVALID_EVENT', 'changes is empty'));
    expect((await handler(eventAt('member.created', 2), delivery())).kind).toBe('dead-letter');
    failNextWith(new IllegalStateError('profile updated before creation arrived'));
    expect((await handler(eventAt('member.created', 3), delivery())).kind).toBe('retry');
    failNextWith(new DomainError('UNAVAILABLE', 'CRM is down'));
    expect((await handler(eventAt('member.created', 4), delivery())).kind).toBe('retry');
    expect((await readConsumerCheckpoint(store, 'crm-sync')).processed).toBe(0);
  });

  it('advances the checkpoint to the highest position processed, counting each event once', async () => {
    const { definition } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });
    expect(await readConsumerCheckpoint(store, 'crm-sync')).toMatchObject({ position: 0, processed: 0 });

    await handler(eventAt('member.created', 3, '2025-03-01T11:00:00.000Z'), delivery());
    clock.advance(1000);
    // Competing consumers finish out of order: an older event after a newer one.
    await handler(eventAt('member.profile.updated', 7, '2025-03-01T11:00:07.000Z'), delivery());
    clock.advance(1000);
    const late = eventAt('member.profile.updated', 5, '2025-03-01T11:00:05.000Z');
    await handler(late, delivery());

    const checkpoint = await readConsumerCheckpoint(store, 'crm-sync');
    expect(checkpoint).toMatchObject({
      id: 'crm-sync',
      position: 7,
      processed: 3,
      lastEventId: late.id,
      lastEventType: 'member.profile.updated',
      lastEventAt: '2025-03-01T11:00:05.000Z',
      lastProcessedAt: '2025-03-01T12:00:02.000Z',
    });
    expect(consumerLag(checkpoint, 10)).toBe(3);
    expect(consumerLag(checkpoint, 7)).toBe(0);
  });

  it('passes the replay flag and reprocesses in each replay run an event already processed live', async () => {
    const { definition, seen } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });
    const event = eventAt('member.created', 12);

    await handler(event, delivery());
    await handler(asReplay(event, 'replay-1'), delivery());
    await handler(asReplay(event, 'replay-1'), delivery({ redelivered: true }));
    await handler(asReplay(event, 'replay-2'), delivery());

    expect(seen.map((s) => [s.replay, s.replayId])).toEqual([
      [false, null],
      [true, 'replay-1'],
      [true, 'replay-2'],
    ]);
    // The effect key is the same live and in replay, so a keyed effect never repeats in a replay.
    expect(new Set(seen.map((s) => s.effectKey))).toEqual(new Set([`crm-sync:${event.id}`]));
    const checkpoint = await readConsumerCheckpoint(store, 'crm-sync');
    expect(checkpoint).toMatchObject({ position: 12, processed: 1, replayed: 2, lastReplayId: 'replay-2', skippedDuplicates: 1 });

    expect(await clearReplayMarkers(store, 'crm-sync', 'replay-1')).toBe(1);
    await handler(asReplay(event, 'replay-1'), delivery());
    expect(seen).toHaveLength(4);
    // A live redelivery is still recognised after the replays.
    await handler(event, delivery({ redelivered: true }));
    expect(seen).toHaveLength(4);
  });

  it('acknowledges a type it does not handle without calling the handler or recording it', async () => {
    const { definition, seen } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock });
    expect(await handler(eventAt('email.sent', 2), delivery())).toEqual({ kind: 'ack' });
    expect(seen).toHaveLength(0);
    expect(await processedMarkers(store).count()).toBe(0);
  });

  describe('the at-least-once window and ctx.effectKey', () => {
    interface SentEmail extends Doc {
      readonly id: string;
      readonly to: string;
    }

    function emailConsumer(documents: DocumentStore, attempts: string[]) {
      const outbox = documents.collection<SentEmail>('test_sent_emails');
      const definition = defineConsumer({
        name: 'welcome-email',
        handles: ['member.created'],
        handle: async (event, ctx) => {
          attempts.push(event.id);
          if (ctx.replay) return;
          // The side effect is keyed by the event: a second run inserts nothing.
          await outbox.insert({ id: ctx.effectKey, to: event.payload.email });
        },
      });
      return { definition, outbox };
    }

    it('runs the handler again when the marker write fails after the side effect, and the keyed effect stays single', async () => {
      const flaky = new FlakyDocumentStore(new MemoryDocumentStore());
      const attempts: string[] = [];
      const { definition, outbox } = emailConsumer(flaky, attempts);
      const handler = createIdempotentHandler(flaky, definition, { clock });
      const event = eventAt('member.created', 1);

      flaky.failNext('consumer_processed', 'insert');
      const first = await handler(event, delivery());
      expect(first).toMatchObject({ kind: 'retry' });
      expect(first.kind === 'retry' && first.reason).toContain('handled but not recorded');

      expect(await handler(event, delivery({ attempt: 2 }))).toEqual({ kind: 'ack' });
      expect(attempts).toEqual([event.id, event.id]);
      expect(await outbox.find()).toEqual([{ id: `welcome-email:${event.id}`, to: 'ada@example.org' }]);
    });

    it('lets two concurrent deliveries both run the handler, with one keyed effect and one count', async () => {
      const attempts: string[] = [];
      const { definition, outbox } = emailConsumer(store, attempts);
      const handler = createIdempotentHandler(store, definition, { clock });
      const event = eventAt('member.created', 1);

      const outcomes = await Promise.all([handler(event, delivery()), handler(event, delivery({ redelivered: true }))]);
      expect(outcomes).toEqual([{ kind: 'ack' }, { kind: 'ack' }]);
      expect(attempts).toHaveLength(2);
      expect(await outbox.count()).toBe(1);
      expect((await readConsumerCheckpoint(store, 'welcome-email')).processed).toBe(1);
    });

    it('retries when the processed marker cannot be read, without running the handler', async () => {
      const flaky = new FlakyDocumentStore(new MemoryDocumentStore());
      const attempts: string[] = [];
      const { definition } = emailConsumer(flaky, attempts);
      const handler = createIdempotentHandler(flaky, definition, { clock });
      flaky.failNext('consumer_processed', 'get');
      expect((await handler(eventAt('member.created', 1), delivery())).kind).toBe('retry');
      expect(attempts).toHaveLength(0);
    });

    it('acknowledges a recorded event even when the checkpoint write fails (the marker is what counts)', async () => {
      const flaky = new FlakyDocumentStore(new MemoryDocumentStore());
      const attempts: string[] = [];
      const { definition } = emailConsumer(flaky, attempts);
      const handler = createIdempotentHandler(flaky, definition, { clock });
      const event = eventAt('member.created', 1);
      flaky.failNext('consumer_checkpoints', 'update');
      expect(await handler(event, delivery())).toEqual({ kind: 'ack' });
      expect(await handler(event, delivery({ redelivered: true }))).toEqual({ kind: 'ack' });
      expect(attempts).toHaveLength(1);
    });
  });
});

describe('defineConsumer typing', () => {
  it('narrows the event to the handled types and refuses others at compile time', async () => {
    const payloads: string[] = [];
    const definition = defineConsumer({
      name: 'typing-check',
      handles: ['member.created', 'member.profile.updated'],
      handle: async (event) => {
        switch (event.type) {
          case 'member.created':
            payloads.push(event.payload.email);
            break;
          case 'member.profile.updated':
            payloads.push(Object.keys(event.payload.changes).join(','));
            break;
          // @ts-expect-error: 'email.sent' is not among the handled types
          case 'email.sent':
            break;
          default: {
            const exhaustive: never = event;
            throw new Error(`unreachable ${String(exhaustive)}`);
          }
        }
      },
    });
    const handled: HandledEvent<typeof definition.handles>['type'][] = ['member.created', 'member.profile.updated'];
    expect(definition.handles).toEqual(handled);

    defineConsumer({
      name: 'unknown-type',
      // @ts-expect-error: 'member.deleted' is not in the event catalog
      handles: ['member.deleted'],
      handle: async () => undefined,
    });

    const handler = createIdempotentHandler(new MemoryDocumentStore(), definition);
    await handler(makeEnvelope('member.created'), delivery());
    expect(payloads).toEqual(['ada@example.org']);

    // A definition for some types is still a ConsumerDefinition, so consumers can be listed together.
    const all: ConsumerDefinition[] = [definition, recordingConsumer().definition];
    expect(all.map((d) => d.name)).toEqual(['typing-check', 'crm-sync']);
    const ctxKeys: (keyof ConsumerContext)[] = ['effectKey', 'replay', 'replayId', 'delivery'];
    expect(ctxKeys).toHaveLength(4);
  });

  it('refuses a consumer name that cannot be a queue and marker key', () => {
    expect(() => defineConsumer({ name: 'Bad Name', handles: ['member.created'], handle: async () => undefined })).toThrow(
      /Consumer name "Bad Name"/,
    );
  });
});

describe('startConsumer on the in-process bus', () => {
  it('binds a queue named after the consumer to its types and absorbs a republished event', async () => {
    const settled = new Recorder<DeliverySettlement>();
    const bus = new InProcessEventBus({ observer: { settled: settled.push } });
    const store = new MemoryDocumentStore();
    const { definition, seen } = recordingConsumer('crm-sync-bus');
    const consumer = await startConsumer(bus, store, definition, { prefetch: 1 });
    try {
      expect(consumer.queue).toBe('crm-sync-bus');
      const created = makeEnvelope('member.created');
      await bus.publish([created, makeEnvelope('email.sent'), makeEnvelope('member.profile.updated')]);
      await settled.until((s) => s.length === 2, 'two deliveries (email.sent is not bound)');
      // The outbox relay may publish the same stored event again after a crash.
      await bus.publish([created]);
      await settled.until((s) => s.length === 3, 'the republished event');

      expect(settled.items.map((s) => [s.queue, s.outcome])).toEqual([
        ['crm-sync-bus', 'ack'],
        ['crm-sync-bus', 'ack'],
        ['crm-sync-bus', 'ack'],
      ]);
      expect(seen.map((s) => s.type)).toEqual(['member.created', 'member.profile.updated']);
      // A running consumer writes its checkpoint behind; closing it writes what it gathered.
      await consumer.close();
      expect(await readConsumerCheckpoint(store, 'crm-sync-bus')).toMatchObject({ processed: 2, skippedDuplicates: 1 });
    } finally {
      await consumer.close();
      await bus.close();
    }
  });

  it('sends an event whose handler reports bad input to the dead-letter queue without retrying', async () => {
    const settled = new Recorder<DeliverySettlement>();
    const bus = new InProcessEventBus({ observer: { settled: settled.push } });
    const { definition, seen, failNextWith } = recordingConsumer('crm-dlq');
    failNextWith(new ValidationError('member has no CRM account'));
    const consumer = await startConsumer(bus, new MemoryDocumentStore(), definition, { retryDelayMs: 0 });
    try {
      await bus.publish([makeEnvelope('member.created')]);
      await settled.until((s) => s.length === 1, 'the dead letter');
      expect(settled.items[0]).toMatchObject({ outcome: 'dead-letter', attempt: 1 });
      expect(await bus.deadLetterCount('crm-dlq')).toBe(1);
      expect(seen).toHaveLength(1);
    } finally {
      await consumer.close();
      await bus.close();
    }
  });
});

describe('checkpoint bumps', () => {
  it.each([
    ['memory', () => new MemoryDocumentStore()],
    ['sqlite (group commit)', () => new SqliteDocumentStore({ file: ':memory:' })],
  ])('concurrent deliveries each count once in the checkpoint (%s store), sharing updates where the store defers them', async (name, create) => {
    const store: DocumentStore = create();
    const { definition } = recordingConsumer();
    const handler = createIdempotentHandler(store, definition, { clock: new ManualClock() });
    const checkpoints = store.collection('consumer_checkpoints');
    const update = jest.spyOn(checkpoints, 'update');
    const events = Array.from({ length: 40 }, (_, i) => eventAt('member.created', i + 1));
    const outcomes = await Promise.all(events.map((event) => handler(event, delivery())));
    expect(outcomes.every((o) => o.kind === 'ack')).toBe(true);
    expect(await readConsumerCheckpoint(store, definition.name)).toMatchObject({ processed: 40, position: 40 });
    if (name.startsWith('sqlite')) expect(update.mock.calls.length).toBeLessThan(40);
    await store.close?.();
  });

  it('written behind: deliveries do not wait, and one update writes what they gathered', async () => {
    const store = new SqliteDocumentStore({ file: ':memory:' });
    const { definition } = recordingConsumer();
    // A delay no test waits out: only flushCheckpoint writes.
    const handler = createIdempotentHandler(store, definition, { clock: new ManualClock(), checkpointDelayMs: 3_600_000 });
    const update = jest.spyOn(store.collection('consumer_checkpoints'), 'update');
    const first = eventAt('member.created', 1);
    for (const event of [first, eventAt('member.created', 2), eventAt('member.profile.updated', 3), first]) {
      expect((await handler(event, delivery())).kind).toBe('ack');
    }
    expect(update).not.toHaveBeenCalled();
    expect(await store.collection('consumer_checkpoints').get(definition.name)).toBeNull();
    await handler.flushCheckpoint();
    expect(update).toHaveBeenCalledTimes(1);
    expect(await readConsumerCheckpoint(store, definition.name)).toMatchObject({ processed: 3, position: 3, skippedDuplicates: 1 });
    // Nothing gathered since: nothing written.
    await handler.flushCheckpoint();
    expect(update).toHaveBeenCalledTimes(1);
    await store.close();
  });
});

describe('outcomeOfFailure', () => {
  it('retries a backend outage without counting the attempt, and dead-letters what no retry can fix', () => {
    expect(outcomeOfFailure(new UnavailableError('MongoDB'))).toEqual({
      kind: 'retry',
      reason: 'UNAVAILABLE: MongoDB is unavailable right now: try again in a few seconds.',
      transient: true,
    });
    expect(outcomeOfFailure(new DomainError('CONFLICT', 'taken'))).toEqual({ kind: 'retry', reason: 'CONFLICT: taken' });
    expect(outcomeOfFailure(new ValidationError('bad tier'))).toMatchObject({ kind: 'dead-letter' });
    expect(outcomeOfFailure(new TypeError('bug'))).toEqual({ kind: 'retry', reason: 'TypeError: bug' });
  });
});
