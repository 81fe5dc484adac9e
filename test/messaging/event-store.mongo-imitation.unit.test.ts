// The MongoDB event store's own logic (retries of 'any' appends, take-backs, the settled head) run
// through the shared contract on an in-memory imitation of the collection operations it uses. This
// is not MongoDB and proves nothing about the server: event-store.mongo.int.test.ts does, with
// MONGODB_URI set. It is here so that the adapter's algorithm runs on every test run.
import { ManualClock } from '../../platform/clock';
import { createEventStore } from '../../messaging/store/create-event-store';
import type { EventStore } from '../../messaging/store/event-store';
import { eventStoreContract } from '../contracts/event-store.contract';
import { imitationMongoConnection } from '../support/imitation-mongo';

describe('MongoEventStore on an imitation of MongoDB (contract; not a server)', () => {
  let connection = imitationMongoConnection();
  eventStoreContract({
    create: (clock) => {
      connection = imitationMongoConnection();
      return createEventStore({ kind: 'mongo', connection, writeConcern: 1 }, clock);
    },
    reopen: (clock) => createEventStore({ kind: 'mongo', connection, writeConcern: 1 }, clock),
  });
});

describe('MongoEventStore: an append in flight (imitation; not a server)', () => {
  const context = { correlationId: 'corr' };
  const updated = (name: string) =>
    ({ type: 'member.profile.updated', payload: { memberId: 'a', changes: { firstName: { before: 'Ada', after: name } } } }) as const;

  /** A store whose next append of two events to `member-a` stops after its first event is stored. */
  async function storeHoldingMidInsert(): Promise<{ store: EventStore; held: Promise<void>; release: () => void }> {
    let release!: () => void;
    let signalHeld!: () => void;
    const held = new Promise<void>((resolve) => (signalHeld = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    const connection = imitationMongoConnection({
      afterInsert: async (collection, doc) => {
        if (!holding || collection !== 'events' || doc['streamVersion'] !== 1) return;
        holding = false;
        signalHeld();
        await gate;
      },
    });
    const store = await createEventStore({ kind: 'mongo', connection, writeConcern: 1 }, new ManualClock());
    return { store, held, release };
  }

  it('counts the stream as before an append whose first events are stored and its last not yet', async () => {
    const { store, held, release } = await storeHoldingMidInsert();
    const first = store.append('member-a', [updated('A'), updated('B')], { expectedVersion: 0, context });
    await held;
    expect(await store.streamVersion('member-a')).toBe(0);
    // A writer who trusted the half-stored append would leave a hole if it were taken back.
    await expect(store.append('member-a', [updated('C')], { expectedVersion: 1, context })).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { actualVersion: 0 },
    });
    release();
    expect((await first).nextExpectedVersion).toBe(2);
    expect(await store.streamVersion('member-a')).toBe(2);
  });

  it("puts an 'any' append after one in flight, never in a hole", async () => {
    const { store, held, release } = await storeHoldingMidInsert();
    const first = store.append('member-a', [updated('A'), updated('B')], { expectedVersion: 'any', context });
    await held;
    const second = store.append('member-a', [updated('C')], { expectedVersion: 'any', context });
    release();
    expect((await first).events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await second).events.map((e) => e.streamVersion)).toEqual([3]);
    expect((await store.readStream('member-a')).map((e) => e.streamVersion)).toEqual([1, 2, 3]);
  });
});
