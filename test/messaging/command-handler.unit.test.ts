// The command handler keeps each aggregate's folded state between commands and reads only the
// events after it: another writer's events (another process) are still seen, and an idempotent
// re-append (a redelivered command) never folds the same events twice.
import { CommandHandler, type Decider } from '../../messaging/store/command-handler';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import type { AnyEventEnvelope, AnyNewEvent } from '../../messaging/events/envelope';
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
});
