// The MongoDB EventStore against a real mongod (MONGODB_URI): the shared contract in fresh random
// databases (dropped afterwards), and the slow-writer cases staged with the adapter's afterReserve hook.
// Without MONGODB_URI these tests are skipped, and say so.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { ManualClock } from '../../platform/clock';
import type { NewEvent } from '../../messaging/events/envelope';
import { createEventStore } from '../../messaging/store/create-event-store';
import type { EventStore } from '../../messaging/store/event-store';
import {
  EVENT_GAPS_COLLECTION,
  EVENTS_COLLECTION,
  MongoEventStore,
  type MongoEventStoreHooks,
  type PositionReservation,
} from '../../messaging/store/mongo-event-store';
import { eventStoreContract } from '../contracts/event-store.contract';

const uri = process.env.MONGODB_URI;
const describeMongo = uri ? describe : describe.skip;
const skipNote = uri ? '' : ' (skipped: MONGODB_URI not set)';
if (!uri) console.warn('MongoEventStore tests skipped: MONGODB_URI not set. Set it (mongodb://host:27017) to run them against a real mongod.');

/** A promise with its resolver outside. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function created(memberId: string, id?: string): NewEvent<'member.created'> {
  return {
    ...(id ? { id } : {}),
    type: 'member.created',
    payload: { memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' },
  };
}

const context = { correlationId: 'corr-mongo' };

async function positions(store: EventStore): Promise<number[]> {
  const seen: number[] = [];
  for await (const batch of store.readAll()) seen.push(...batch.map((e) => e.position));
  return seen;
}

describeMongo(`MongoEventStore against MongoDB${skipNote}`, () => {
  const url = uri ?? 'mongodb://unset';
  const runId = randomUUID().slice(0, 8);
  const databases: string[] = [];
  let admin: MongoClient;

  function freshDatabase(): string {
    const name = `event_store_test_${runId}_${databases.length + 1}`;
    databases.push(name);
    return name;
  }

  beforeAll(async () => {
    admin = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await admin.connect();
  });

  afterAll(async () => {
    for (const name of databases) await admin.db(name).dropDatabase().catch(() => undefined);
    await admin?.close();
  });

  describe('contract', () => {
    let lastDb = '';
    eventStoreContract({
      create: (clock) => {
        lastDb = freshDatabase();
        return createEventStore({ kind: 'mongo', uri: url, dbName: lastDb, writeConcern: 1 }, clock);
      },
      reopen: (clock) => createEventStore({ kind: 'mongo', uri: url, dbName: lastDb, writeConcern: 1 }, clock),
    });
  });

  describe('storage layout', () => {
    it('stores one document per event in `events` with the unique and read indexes', async () => {
      const dbName = freshDatabase();
      const store = await MongoEventStore.connect({ uri: url, dbName, writeConcern: 'majority', clock: new ManualClock() });
      try {
        const { events } = await store.append('member-a', [created('a')], { expectedVersion: 0, context });
        const doc = await admin.db(dbName).collection(EVENTS_COLLECTION).findOne({ _id: events[0]?.id as never });
        expect(doc).toMatchObject({ streamId: 'member-a', streamVersion: 1, position: 1, type: 'member.created' });
        const indexes = await admin.db(dbName).collection(EVENTS_COLLECTION).indexes();
        const byName = Object.fromEntries(indexes.map((i) => [i.name, i]));
        expect(byName['stream_version']).toMatchObject({ key: { streamId: 1, streamVersion: 1 }, unique: true });
        expect(byName['position']).toMatchObject({ key: { position: 1 }, unique: true });
        expect(byName['recorded_at']).toMatchObject({ key: { recordedAt: 1 } });
        expect(byName['type_position']).toMatchObject({ key: { type: 1, position: 1 } });
      } finally {
        await store.close();
      }
    });
  });

  describe('slow writer', () => {
    const staleGapMs = 1000;
    let clock: ManualClock;
    let dbName: string;
    let opened: EventStore[];

    beforeEach(() => {
      clock = new ManualClock();
      dbName = freshDatabase();
      opened = [];
    });

    afterEach(async () => {
      for (const store of opened) await store.close();
    });

    /** A store whose appends to `slowStream` stop after reserving until the test releases them. */
    async function storeHolding(slowStream: string): Promise<{
      store: MongoEventStore;
      reserved: Promise<PositionReservation>;
      release: () => void;
    }> {
      const reserved = deferred<PositionReservation>();
      const held = deferred();
      const hooks: MongoEventStoreHooks = {
        afterReserve: async (reservation) => {
          if (reservation.streamId !== slowStream) return;
          reserved.resolve(reservation);
          await held.promise;
        },
      };
      const store = await MongoEventStore.connect({ uri: url, dbName, clock, staleGapMs, hooks, writeConcern: 1 });
      opened.push(store);
      return { store, reserved: reserved.promise, release: () => held.resolve() };
    }

    async function plainStore(): Promise<MongoEventStore> {
      const store = await MongoEventStore.connect({ uri: url, dbName, clock, staleGapMs, writeConcern: 1 });
      opened.push(store);
      return store;
    }

    it('holds readers before a reserved position until its writer commits, even when a later one committed first', async () => {
      const { store, reserved, release } = await storeHolding('member-slow');
      const slow = store.append('member-slow', [created('slow')], { expectedVersion: 0, context });
      const reservation = await reserved;
      expect(reservation.firstPosition).toBe(1);

      const fast = await store.append('member-fast', [created('fast')], { expectedVersion: 0, context });
      expect(fast.events[0]?.position).toBe(2);

      const follower = await plainStore();
      for (const reader of [store, follower]) {
        expect(await reader.headPosition()).toBe(0);
        expect(await positions(reader)).toEqual([]);
      }

      release();
      await slow;
      for (const reader of [store, follower]) {
        expect(await reader.headPosition()).toBe(2);
        expect(await positions(reader)).toEqual([1, 2]);
      }
    });

    it('lets readers pass at once the positions of an append that failed after reserving', async () => {
      const { store, reserved, release } = await storeHolding('member-race');
      const loser = store.append('member-race', [created('loser')], { expectedVersion: 0, context });
      await reserved; // holds position 1
      const other = await plainStore();
      await other.append('member-race', [created('winner')], { expectedVersion: 0, context }); // position 2
      await other.append('member-next', [created('next')], { expectedVersion: 0, context }); // position 3
      expect(await other.headPosition()).toBe(0);

      release();
      await expect(loser).rejects.toMatchObject({ code: 'CONFLICT', details: { expectedVersion: 0, actualVersion: 1 } });
      // No clock movement: the failed writer marked its position abandoned.
      expect(await other.headPosition()).toBe(3);
      expect(await positions(other)).toEqual([2, 3]);
      expect(await admin.db(dbName).collection(EVENT_GAPS_COLLECTION).findOne({ _id: 1 as never })).toMatchObject({ reason: 'failed' });
    });

    it('takes back the part of an append that got in before the server refused the rest', async () => {
      const takenId = randomUUID();
      const other = await plainStore();
      const store = await MongoEventStore.connect({
        uri: url,
        dbName,
        clock,
        staleGapMs,
        writeConcern: 1,
        hooks: {
          // Between reserve and insert, another stream takes the id of this append's second event.
          afterReserve: async (r) => {
            if (r.streamId === 'member-a') await other.append('member-b', [created('b', takenId)], { expectedVersion: 0, context });
          },
        },
      });
      opened.push(store);
      const attempt = store.append('member-a', [created('a'), created('a2', takenId)], { expectedVersion: 0, context });
      await expect(attempt).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store.readStream('member-a')).toEqual([]);
      expect(await other.headPosition()).toBe(3);
      expect(await positions(other)).toEqual([3]);
    });

    it('skips a position whose writer vanished once staleGapMs has passed on the clock, and fails that writer if it comes back', async () => {
      const { store, reserved, release } = await storeHolding('member-crashed');
      const eventId = randomUUID();
      const crashed = store.append('member-crashed', [created('crashed', eventId)], { expectedVersion: 0, context });
      await reserved; // position 1, never inserted while held
      const follower = await plainStore();
      await follower.append('member-ok', [created('ok')], { expectedVersion: 0, context }); // position 2

      expect(await follower.headPosition()).toBe(0); // first sight of the gap
      clock.advance(staleGapMs - 1);
      expect(await follower.headPosition()).toBe(0);
      clock.advance(1);
      expect(await follower.headPosition()).toBe(2);
      expect(await positions(follower)).toEqual([2]);
      expect(await admin.db(dbName).collection(EVENT_GAPS_COLLECTION).findOne({ _id: 1 as never })).toMatchObject({ reason: 'stale' });
      // Another reader (another process) skips the fenced position without waiting.
      expect(await (await plainStore()).headPosition()).toBe(2);

      release();
      await expect(crashed).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await follower.readStream('member-crashed')).toEqual([]);

      const retried = await follower.append('member-crashed', [created('crashed', eventId)], { expectedVersion: 0, context });
      expect(retried.events[0]).toMatchObject({ id: eventId, position: 3, streamVersion: 1 });
      expect(await positions(follower)).toEqual([2, 3]);
    });
  });
});
