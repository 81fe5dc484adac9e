// The command handler keeps each aggregate's folded state between commands and reads only the
// events after it: another writer's events (another process) are still seen, and an idempotent
// re-append (a redelivered command) never folds the same events twice.
import { CommandHandler, type Decider, type EventIds } from '../../messaging/store/command-handler';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import type { AnyEventEnvelope, AnyNewEvent, NewEvent } from '../../messaging/events/envelope';
import type { AppendOptions, AppendResult } from '../../messaging/store/event-store';
import { ManualClock } from '../../platform/clock';

/** A counter of renewals: the state is how many membership.renewed events the stream holds. */
const counter: Decider<'renew', number, AnyNewEvent> = {
  initialState: 0,
  snapshotSchemaVersion: 1,
  decide: () => [{ type: 'membership.renewed', payload: { memberId: 'a', tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }],
  evolve: (state, event) => (event.type === 'membership.renewed' ? state + 1 : state),
};

class CountingStore extends MemoryEventStore {
  readFrom: number[] = [];
  override async readStream(streamId: string, fromVersion = 1): Promise<AnyEventEnvelope[]> {
    this.readFrom.push(fromVersion);
    return super.readStream(streamId, fromVersion);
  }
}

describe('CommandHandler', () => {
  const context = { correlationId: 'c' };

  it('reads only the events after the state it kept, and sees other writers', async () => {
    const clock = new ManualClock();
    const store = new CountingStore(clock);
    const handler = new CommandHandler(counter, { store, clock, snapshotEvery: 1000 });
    expect((await handler.handle('member-a', 'renew', context)).state).toBe(1);
    expect((await handler.handle('member-a', 'renew', context)).state).toBe(2);
    // Another process appends behind this handler's back.
    const other = new CommandHandler(counter, { store, clock, snapshotEvery: 1000 });
    await other.handle('member-a', 'renew', context);
    store.readFrom = [];
    expect((await handler.handle('member-a', 'renew', context)).state).toBe(4);
    expect(store.readFrom).toEqual([3]);
  });

  it('does not fold the events of an idempotent re-append twice', async () => {
    const clock = new ManualClock();
    const store = new CountingStore(clock);
    const handler = new CommandHandler(counter, { store, clock, snapshotEvery: 1000 });
    const ids = ['00000000-0000-4000-8000-000000000001'];
    expect((await handler.handle('member-a', 'renew', context, undefined, ids)).state).toBe(1);
    // The same command again (a redelivery): the store hands back the stored event.
    await handler.handle('member-a', 'renew', context, undefined, ids).catch(() => undefined);
    expect((await handler.load('member-a')).state).toBe(1);
    expect((await handler.handle('member-a', 'renew', context)).state).toBe(2);
    expect((await new CommandHandler(counter, { store, clock, snapshotEvery: 1000 }).load('member-a')).state).toBe(2);
  });

  /** Another writer renews the stream just before each of this handler's next `races` appends. */
  class RacingStore extends CountingStore {
    races = 0;
    override async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
      if (this.races > 0 && options.expectedVersion !== 'any') {
        this.races--;
        await super.append(streamId, counter.decide('renew', 0, new Date()), { expectedVersion: 'any', context });
      }
      return super.append(streamId, events, options);
    }
  }

  it('decides again on fresh state after losing a race, as many times as allowed, then gives CONFLICT', async () => {
    const clock = new ManualClock();
    const store = new RacingStore(clock);
    const ids: EventIds = ({ version, index }) => `00000000-0000-4000-8000-${String(version * 10 + index).padStart(12, '0')}`;
    const handler = new CommandHandler(counter, { store, clock, conflictRetries: 2 });
    store.races = 2;
    expect(await handler.handle('member-a', 'renew', context, undefined, ids)).toMatchObject({ state: 3, version: 3 });
    expect((await store.readStream('member-a')).map((e) => e.id).at(-1)).toBe('00000000-0000-4000-8000-000000000020');
    store.races = 3;
    await expect(handler.handle('member-a', 'renew', context)).rejects.toMatchObject({ code: 'CONFLICT' });
    // A caller's own expected version is never retried: the stream moved on under it.
    store.races = 1;
    await expect(handler.handle('member-a', 'renew', context, 6)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await handler.load('member-a')).version).toBe(7);
  });

  it('folds only the decider\'s own event types, and keeps only the states it is told to keep', async () => {
    const clock = new ManualClock();
    const store = new CountingStore(clock);
    const activations: Decider<'activate', number, NewEvent<'membership.activated'>> = {
      initialState: 0,
      eventTypes: ['membership.activated'],
      decide: () => [{ type: 'membership.activated', payload: { memberId: 'a', orderId: 'o', tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }],
      evolve: (state) => state + 1,
    };
    const handler = new CommandHandler(activations, { store, clock, keepFolded: (state) => state < 2 });
    await new CommandHandler(counter, { store, clock }).handle('member-a', 'renew', context);
    expect(await handler.handle('member-a', 'activate', context)).toMatchObject({ state: 1, version: 2 });
    expect(handler.peek('member-a')).toMatchObject({ state: 1, version: 2 });
    expect(await handler.handle('member-a', 'activate', context)).toMatchObject({ state: 2, version: 3 });
    expect(handler.peek('member-a')).toBeUndefined();
    store.readFrom = [];
    expect(await handler.load('member-a')).toMatchObject({ state: 2, version: 3 });
    expect(store.readFrom).toEqual([1]);
  });
});
