// The EventStore contract: one suite, run against every adapter (memory, SQLite, MongoDB).
// Each test gets a fresh, empty store on a ManualClock, so times are known and nothing is shared.
import type { Clock } from '../../platform/clock';
import { ManualClock } from '../../platform/clock';
import { ConcurrencyError, EventContractError } from '../../platform/errors';
import type { AnyEventEnvelope, AnyNewEvent, CausationContext, NewEvent } from '../../messaging/events/envelope';
import type { EventStore, ReadAllOptions } from '../../messaging/store/event-store';

export interface EventStoreHarness {
  /** A new, empty store on `clock`; the suite closes it after each test. */
  create(clock: Clock): Promise<EventStore>;
  /** Opens the storage of the last store created again, after it was closed (restart tests). */
  reopen?(clock: Clock): Promise<EventStore>;
}

const context: CausationContext = { correlationId: 'corr-1', causationId: 'cause-1', actor: { id: 'admin-1', role: 'admin' } };
let idCounter = 0;

/** A fresh UUID-shaped id, so that tests can re-send exactly the same event. */
function newId(): string {
  idCounter++;
  return `00000000-0000-4000-8000-${idCounter.toString(16).padStart(12, '0')}`;
}

function created(memberId: string, extra: Partial<NewEvent<'member.created'>> = {}): NewEvent<'member.created'> {
  return {
    type: 'member.created',
    payload: { memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' },
    ...extra,
  };
}

function updated(memberId: string, firstName = 'Augusta'): NewEvent<'member.profile.updated'> {
  return { type: 'member.profile.updated', payload: { memberId, changes: { firstName: { before: 'Ada', after: firstName } } } };
}

/** The new first name a profile update carries (how the concurrent appends below tell theirs apart). */
function firstNameAfter(event: AnyEventEnvelope): unknown {
  return event.type === 'member.profile.updated' ? event.payload.changes.firstName?.after : undefined;
}

function renewed(memberId: string): NewEvent<'membership.renewed'> {
  return { type: 'membership.renewed', payload: { memberId, tier: 'premium', expiresAt: '2026-01-15T00:00:00.000Z' } };
}

async function collect(store: EventStore, options?: ReadAllOptions): Promise<AnyEventEnvelope[][]> {
  const batches: AnyEventEnvelope[][] = [];
  for await (const batch of store.readAll(options)) batches.push(batch);
  return batches;
}

async function readEverything(store: EventStore, options?: ReadAllOptions): Promise<AnyEventEnvelope[]> {
  return (await collect(store, options)).flat();
}

/** Lets other pending work (appends in flight) run before the next poll; not a timed wait. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function eventStoreContract(harness: EventStoreHarness): void {
  let clock: ManualClock;
  let store: EventStore;

  beforeEach(async () => {
    clock = new ManualClock('2025-01-15T09:00:00.000Z');
    store = await harness.create(clock);
  });

  afterEach(async () => {
    await store.close();
  });

  describe('append and readStream', () => {
    it('appends events to a new stream and reads them back in order with versions, positions and times', async () => {
      const result = await store.append('member-a', [created('a'), updated('a')], { expectedVersion: 'no_stream', context });
      expect(result.nextExpectedVersion).toBe(2);
      expect(result.events.map((e) => [e.type, e.streamId, e.streamVersion, e.position])).toEqual([
        ['member.created', 'member-a', 1, 1],
        ['member.profile.updated', 'member-a', 2, 2],
      ]);
      for (const event of result.events) {
        expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(event.schemaVersion).toBe(1);
        expect(event.recordedAt).toBe('2025-01-15T09:00:00.000Z');
        expect(event.occurredAt).toBe('2025-01-15T09:00:00.000Z');
        expect(event.metadata).toEqual({ replay: false });
      }
      expect(await store.readStream('member-a')).toEqual(result.events);
      expect(await store.streamVersion('member-a')).toBe(2);
    });

    it('reads a stream from a given version', async () => {
      await store.append('member-a', [created('a'), updated('a', 'B'), updated('a', 'C')], { expectedVersion: 0, context });
      const tail = await store.readStream('member-a', 2);
      expect(tail.map((e) => e.streamVersion)).toEqual([2, 3]);
      expect(await store.readStream('member-a', 4)).toEqual([]);
    });

    it('knows an unknown stream as version 0 with no events', async () => {
      expect(await store.streamVersion('member-nobody')).toBe(0);
      expect(await store.readStream('member-nobody')).toEqual([]);
    });

    it('keeps the payload the schema accepted, the occurredAt given and the metadata added', async () => {
      const [event] = (
        await store.append(
          'member-a',
          [created('a', { occurredAt: '2024-12-31T23:00:00Z', metadata: { source: 'import' } })],
          { expectedVersion: 'any', context },
        )
      ).events;
      expect(event).toMatchObject({
        occurredAt: '2024-12-31T23:00:00.000Z',
        recordedAt: '2025-01-15T09:00:00.000Z',
        metadata: { replay: false, source: 'import' },
        payload: { memberId: 'a', email: 'a@example.org', firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' },
      });
      expect((await store.readStream('member-a'))[0]).toEqual(event);
    });

    it('carries correlation id, causation id and actor from the context into every envelope', async () => {
      await store.append('member-a', [created('a'), updated('a')], { expectedVersion: 0, context });
      await store.append('member-b', [created('b')], { expectedVersion: 0, context: { correlationId: 'corr-2' } });
      const events = await readEverything(store);
      expect(events.map((e) => [e.correlationId, e.causationId, e.actor])).toEqual([
        ['corr-1', 'cause-1', { id: 'admin-1', role: 'admin' }],
        ['corr-1', 'cause-1', { id: 'admin-1', role: 'admin' }],
        ['corr-2', null, null],
      ]);
    });
  });

  describe('expected version', () => {
    it('appends when the expected version is the current one', async () => {
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      const result = await store.append('member-a', [updated('a')], { expectedVersion: 1, context });
      expect(result.nextExpectedVersion).toBe(2);
    });

    it('refuses an append with a stale version, naming expected and actual versions', async () => {
      await store.append('member-a', [created('a'), updated('a')], { expectedVersion: 0, context });
      const attempt = store.append('member-a', [updated('a', 'Z')], { expectedVersion: 1, context });
      await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(attempt).rejects.toMatchObject({
        code: 'CONFLICT',
        details: { streamId: 'member-a', expectedVersion: 1, actualVersion: 2 },
      });
      expect(await store.streamVersion('member-a')).toBe(2);
    });

    it("accepts 'no_stream' for a new stream and refuses it for an existing one", async () => {
      await store.append('member-a', [created('a')], { expectedVersion: 'no_stream', context });
      await expect(store.append('member-a', [created('a')], { expectedVersion: 'no_stream', context })).rejects.toMatchObject({
        code: 'CONFLICT',
        details: { expectedVersion: 'no_stream', actualVersion: 1 },
      });
    });

    it('refuses a number ahead of the stream', async () => {
      await expect(store.append('member-a', [created('a')], { expectedVersion: 3, context })).rejects.toMatchObject({
        details: { expectedVersion: 3, actualVersion: 0 },
      });
      expect(await store.headPosition()).toBe(0);
    });

    it("appends whatever the version with 'any'", async () => {
      await store.append('member-a', [created('a')], { expectedVersion: 'any', context });
      const result = await store.append('member-a', [updated('a')], { expectedVersion: 'any', context });
      expect(result.nextExpectedVersion).toBe(2);
    });

    it("stores all of 20 concurrent 'any' appends to one stream, with versions 1 to 20, each as its caller was told", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.append('member-a', [updated('a', `N${i}`)], { expectedVersion: 'any', context })),
      );
      const stream = await store.readStream('member-a');
      expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(results.map((r) => r.nextExpectedVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      for (const result of results) expect(stream[result.nextExpectedVersion - 1]).toEqual(result.events[0]);
      expect(new Set(stream.map((e) => firstNameAfter(e))).size).toBe(20);
      expect(await store.streamVersion('member-a')).toBe(20);
      // Followers see every one of them, in global order.
      expect((await readEverything(store)).map((e) => e.id)).toEqual([...stream].sort((a, b) => a.position - b.position).map((e) => e.id));
    });

    it("keeps each of several concurrent multi-event 'any' appends together and in order", async () => {
      const sizes = [3, 1, 2, 3, 1, 2, 3, 1];
      const results = await Promise.all(
        sizes.map((size, n) =>
          store.append(
            'member-a',
            Array.from({ length: size }, (_, i) => updated('a', `A${n}E${i}`)),
            { expectedVersion: 'any', context },
          ),
        ),
      );
      const stream = await store.readStream('member-a');
      expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      results.forEach((result, n) => {
        const first = result.nextExpectedVersion - sizes[n]! + 1;
        expect(result.events.map((e) => e.streamVersion)).toEqual(Array.from({ length: sizes[n]! }, (_, i) => first + i));
        expect(stream.slice(first - 1, result.nextExpectedVersion)).toEqual(result.events);
        expect(result.events.map((e) => firstNameAfter(e))).toEqual(
          Array.from({ length: sizes[n]! }, (_, i) => `A${n}E${i}`),
        );
      });
    });

    it('lets exactly one of several concurrent appends with the same expected version win', async () => {
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      const attempts = await Promise.allSettled(
        ['B', 'C', 'D', 'E'].map((name) => store.append('member-a', [updated('a', name), renewed('a')], { expectedVersion: 1, context })),
      );
      const won = attempts.filter((a): a is PromiseFulfilledResult<Awaited<ReturnType<EventStore['append']>>> => a.status === 'fulfilled');
      const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(3);
      for (const failure of lost) {
        expect(failure.reason).toBeInstanceOf(ConcurrencyError);
        expect(failure.reason).toMatchObject({ details: { streamId: 'member-a', expectedVersion: 1, actualVersion: 3 } });
      }
      const stream = await store.readStream('member-a');
      expect(stream.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(stream.slice(1)).toEqual(won[0]?.value.events);
    });
  });

  describe('idempotency by event id', () => {
    it('treats a re-append of the same ids as a no-op returning the stored envelopes', async () => {
      const events: AnyNewEvent[] = [created('a', { id: newId() }), { ...updated('a'), id: newId() }];
      const first = await store.append('member-a', events, { expectedVersion: 'no_stream', context });
      clock.advance(60_000);
      const again = await store.append('member-a', events, { expectedVersion: 'no_stream', context });
      expect(again.events).toEqual(first.events);
      expect(again.nextExpectedVersion).toBe(2);
      expect(await store.streamVersion('member-a')).toBe(2);
      expect(await store.headPosition()).toBe(2);
      expect(await readEverything(store)).toEqual(first.events);
    });

    it('returns the original result on a retry even after the stream moved on', async () => {
      const retried = { ...updated('a'), id: newId() };
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      const first = await store.append('member-a', [retried], { expectedVersion: 1, context });
      await store.append('member-a', [renewed('a')], { expectedVersion: 2, context });
      const again = await store.append('member-a', [retried], { expectedVersion: 1, context });
      expect(again).toEqual(first);
      expect(await store.streamVersion('member-a')).toBe(3);
    });

    it('refuses an id already stored in another stream and stores nothing', async () => {
      const id = newId();
      await store.append('member-a', [created('a', { id })], { expectedVersion: 0, context });
      await expect(store.append('member-b', [created('b', { id })], { expectedVersion: 0, context })).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      expect(await store.streamVersion('member-b')).toBe(0);
      expect(await store.headPosition()).toBe(1);
    });

    it('refuses a batch of which only some ids are stored', async () => {
      const id = newId();
      await store.append('member-a', [created('a', { id })], { expectedVersion: 0, context });
      const mixed = [created('a', { id }), { ...updated('a'), id: newId() }];
      await expect(store.append('member-a', mixed, { expectedVersion: 'any', context })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store.streamVersion('member-a')).toBe(1);
    });
  });

  describe('contract validation', () => {
    it('refuses an invalid payload and stores nothing of the batch', async () => {
      await store.append('member-z', [created('z')], { expectedVersion: 0, context });
      const bad = { type: 'member.created', payload: { memberId: 'a', email: 'not-an-email', firstName: 'Ada', lastName: 'L', tier: 'gold' } };
      const attempt = store.append('member-a', [created('a'), bad as AnyNewEvent], { expectedVersion: 0, context });
      await expect(attempt).rejects.toBeInstanceOf(EventContractError);
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_EVENT' });
      expect(await store.streamVersion('member-a')).toBe(0);
      expect(await store.headPosition()).toBe(1);
      expect((await readEverything(store)).map((e) => e.streamId)).toEqual(['member-z']);
    });

    it('refuses an unknown event type and stores nothing', async () => {
      const unknown = { type: 'member.deleted', payload: { memberId: 'a' } } as unknown as AnyNewEvent;
      const attempt = store.append('member-a', [unknown], { expectedVersion: 'any', context });
      await expect(attempt).rejects.toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' });
      expect(await store.streamVersion('member-a')).toBe(0);
      expect(await readEverything(store)).toEqual([]);
    });
  });

  describe('readAll', () => {
    async function appendAcrossStreams(): Promise<void> {
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      await store.append('member-b', [created('b'), updated('b')], { expectedVersion: 0, context });
      await store.append('member-a', [renewed('a')], { expectedVersion: 1, context });
      await store.append('member-c', [created('c')], { expectedVersion: 0, context });
    }

    it('reads every event in global order across streams', async () => {
      await appendAcrossStreams();
      const events = await readEverything(store);
      expect(events.map((e) => [e.position, e.streamId, e.streamVersion])).toEqual([
        [1, 'member-a', 1],
        [2, 'member-b', 1],
        [3, 'member-b', 2],
        [4, 'member-a', 2],
        [5, 'member-c', 1],
      ]);
    });

    it('reads after a position, exclusive', async () => {
      await appendAcrossStreams();
      expect((await readEverything(store, { after: 3 })).map((e) => e.position)).toEqual([4, 5]);
      expect(await readEverything(store, { after: 5 })).toEqual([]);
      expect(await readEverything(store, { after: 50 })).toEqual([]);
    });

    it('reads a time range of recordedAt, from inclusive and to exclusive', async () => {
      clock.set('2025-01-15T10:00:00.000Z');
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      clock.set('2025-01-15T11:00:00.000Z');
      await store.append('member-b', [created('b')], { expectedVersion: 0, context });
      clock.set('2025-01-15T12:00:00.000Z');
      await store.append('member-c', [created('c')], { expectedVersion: 0, context });
      clock.set('2025-01-15T13:00:00.000Z');
      await store.append('member-d', [created('d')], { expectedVersion: 0, context });

      const range = await readEverything(store, { from: '2025-01-15T11:00:00.000Z', to: '2025-01-15T13:00:00.000Z' });
      expect(range.map((e) => [e.streamId, e.recordedAt])).toEqual([
        ['member-b', '2025-01-15T11:00:00.000Z'],
        ['member-c', '2025-01-15T12:00:00.000Z'],
      ]);
      expect((await readEverything(store, { from: '2025-01-15T12:30:00Z' })).map((e) => e.streamId)).toEqual(['member-d']);
      expect((await readEverything(store, { to: '2025-01-15T10:00:00.001Z' })).map((e) => e.streamId)).toEqual(['member-a']);
    });

    it('reads up to a position, inclusive, with or without other filters', async () => {
      await appendAcrossStreams();
      expect((await readEverything(store, { until: 3 })).map((e) => e.position)).toEqual([1, 2, 3]);
      expect((await readEverything(store, { after: 1, until: 4, batchSize: 1 })).map((e) => e.position)).toEqual([2, 3, 4]);
      expect((await readEverything(store, { until: 4, types: ['member.created'] })).map((e) => e.position)).toEqual([1, 2]);
      expect(await readEverything(store, { after: 3, until: 3 })).toEqual([]);
      expect((await readEverything(store, { until: 50 })).map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
      await expect(readEverything(store, { until: -1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    });

    it('reads only the types asked for, in global order', async () => {
      await appendAcrossStreams();
      const events = await readEverything(store, { types: ['member.profile.updated', 'membership.renewed'] });
      expect(events.map((e) => [e.position, e.type])).toEqual([
        [3, 'member.profile.updated'],
        [4, 'membership.renewed'],
      ]);
      expect((await readEverything(store, { types: ['member.created'], after: 2 })).map((e) => e.position)).toEqual([5]);
      expect(await readEverything(store, { types: ['email.sent'] })).toEqual([]);
    });

    it('yields batches of at most batchSize events', async () => {
      for (let i = 0; i < 5; i++) {
        await store.append(`member-${i}`, [created(`m${i}`), updated(`m${i}`), renewed(`m${i}`), updated(`m${i}`, 'X'), renewed(`m${i}`)], {
          expectedVersion: 0,
          context,
        });
      }
      const batches = await collect(store, { batchSize: 10 });
      expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
      expect(batches.flat().map((e) => e.position)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      const filtered = await collect(store, { batchSize: 4, types: ['membership.renewed'] });
      expect(filtered.map((b) => b.length)).toEqual([4, 4, 2]);
    });

    it('reports the head position: 0 when empty, then the last settled position', async () => {
      expect(await store.headPosition()).toBe(0);
      await appendAcrossStreams();
      expect(await store.headPosition()).toBe(5);
    });

    it('never lets a follower skip an event that commits late (slow writer)', async () => {
      // Many writers race; a follower polls by position meanwhile. Whatever the interleaving, what
      // the follower saw must be exactly the final global order, with no position missing.
      const writers = Array.from({ length: 24 }, (_, i) =>
        store.append(`member-w${i}`, i % 3 === 0 ? [created(`w${i}`), updated(`w${i}`)] : [created(`w${i}`)], {
          expectedVersion: 'no_stream',
          context,
        }),
      );
      let writing = true;
      const settled = Promise.allSettled(writers).then(() => {
        writing = false;
      });
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const finished = !writing;
        for await (const batch of store.readAll({ after, batchSize: 3 })) {
          for (const event of batch) {
            // A follower resumes after the last position it saw: seeing p means it can never see p-1 later.
            expect(event.position).toBe(after + 1);
            seen.push(event.position);
            after = event.position;
          }
        }
        if (finished && after >= (await store.headPosition())) break;
        await yieldTurn();
      }
      await settled;
      const all = await readEverything(store);
      expect(all).toHaveLength(32);
      expect(seen).toEqual(all.map((e) => e.position));
    });
  });

  describe('snapshots', () => {
    it('returns null for a stream without a snapshot', async () => {
      expect(await store.loadSnapshot('member-a')).toBeNull();
    });

    it('saves and loads the latest snapshot of a stream', async () => {
      const state = { status: 'registered', member: { id: 'a', tags: ['x'], points: 3 } };
      await store.saveSnapshot({ streamId: 'member-a', version: 3, schemaVersion: 1, state, takenAt: '2025-01-15T09:00:00.000Z' });
      await store.saveSnapshot({ streamId: 'member-a', version: 5, schemaVersion: 1, state: { ...state, v: 5 }, takenAt: '2025-01-15T09:05:00.000Z' });
      await store.saveSnapshot({ streamId: 'member-b', version: 1, schemaVersion: 2, state: { b: true }, takenAt: '2025-01-15T09:06:00.000Z' });
      expect(await store.loadSnapshot('member-a')).toEqual({
        streamId: 'member-a',
        version: 5,
        schemaVersion: 1,
        state: { ...state, v: 5 },
        takenAt: '2025-01-15T09:05:00.000Z',
      });
      expect(await store.loadSnapshot('member-b')).toMatchObject({ version: 1, schemaVersion: 2, state: { b: true } });
    });

    it('keeps the newer snapshot when an older one is saved after it', async () => {
      await store.saveSnapshot({ streamId: 'member-a', version: 7, schemaVersion: 1, state: { v: 7 }, takenAt: '2025-01-15T09:07:00.000Z' });
      await store.saveSnapshot({ streamId: 'member-a', version: 4, schemaVersion: 1, state: { v: 4 }, takenAt: '2025-01-15T09:08:00.000Z' });
      expect(await store.loadSnapshot('member-a')).toMatchObject({ version: 7, state: { v: 7 } });
    });
  });

  if (harness.reopen) {
    const reopen = harness.reopen;
    describe('restart', () => {
      it('reads back every event and snapshot after a restart, and continues the positions', async () => {
        await store.append('member-a', [created('a'), updated('a')], { expectedVersion: 0, context });
        await store.append('member-b', [created('b')], { expectedVersion: 0, context });
        await store.saveSnapshot({ streamId: 'member-a', version: 2, schemaVersion: 1, state: { n: 2 }, takenAt: '2025-01-15T09:00:00.000Z' });
        const before = await readEverything(store);
        await store.close();

        store = await reopen(clock);
        expect(await readEverything(store)).toEqual(before);
        expect(await store.readStream('member-a')).toEqual(before.filter((e) => e.streamId === 'member-a'));
        expect(await store.streamVersion('member-a')).toBe(2);
        expect(await store.headPosition()).toBe(3);
        expect(await store.loadSnapshot('member-a')).toMatchObject({ version: 2, state: { n: 2 } });
        await expect(store.append('member-a', [renewed('a')], { expectedVersion: 1, context })).rejects.toBeInstanceOf(ConcurrencyError);
        const next = await store.append('member-a', [renewed('a')], { expectedVersion: 2, context });
        expect(next.events[0]).toMatchObject({ streamVersion: 3, position: 4 });
      });
    });
  }
}
