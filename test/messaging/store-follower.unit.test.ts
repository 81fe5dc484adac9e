// A follower of some event types: the store hands it only those, it moves past the others to the
// head it took before reading.
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import type { ReadAllOptions } from '../../messaging/store/event-store';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { ManualClock } from '../../platform/clock';
import { loggerFor } from '../../platform/logger';

const context = { correlationId: 'c' };
const created = (memberId: string) => ({
  type: 'member.created' as const,
  payload: { memberId, email: `${memberId}@x.org`, firstName: 'A', lastName: 'B', tier: 'basic' as const },
});
const renewed = (memberId: string) => ({ type: 'membership.renewed' as const, payload: { memberId, tier: 'vip' as const, expiresAt: '2026-01-01T00:00:00.000Z' } });

/** Counts what readAll hands out. */
class CountingStore extends MemoryEventStore {
  read = 0;
  override async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    for await (const batch of super.readAll(options)) {
      this.read += batch.length;
      yield batch;
    }
  }
}

describe('StoreFollower with types', () => {
  it('reads only its types, and its position moves to the head past the others', async () => {
    const store = new CountingStore(new ManualClock());
    for (let i = 0; i < 10; i++) await store.append(`member-m${i}`, [created(`m${i}`)], { expectedVersion: 0, context });
    await store.append('member-m0', [renewed('m0')], { expectedVersion: 1, context });
    await store.append('member-m11', [created('m11')], { expectedVersion: 0, context });
    const handled: number[] = [];
    const checkpoint = memoryCheckpoint();
    const follower = new StoreFollower(
      'renewals',
      store,
      checkpoint,
      async (batch) => {
        handled.push(...batch.map((e) => e.position));
      },
      loggerFor('test'),
      { types: ['membership.renewed'], pollIntervalMs: 3_600_000 },
    );
    await follower.start();
    await follower.caughtUp();
    expect(handled).toEqual([11]);
    expect(store.read).toBe(1);
    expect(follower.status().position).toBe(12);
    expect(await checkpoint.load()).toBe(12);

    await store.append('member-m1', [renewed('m1')], { expectedVersion: 1, context });
    await follower.caughtUp();
    expect(handled).toEqual([11, 13]);
    await follower.stop();
  });

  it('stays asleep when woken for an append of other types, and wakes for its own', async () => {
    const store = new CountingStore(new ManualClock());
    const handled: number[] = [];
    const follower = new StoreFollower('renewals', store, memoryCheckpoint(), async (batch) => {
      handled.push(...batch.map((e) => e.position));
    }, loggerFor('test'), { types: ['membership.renewed'], pollIntervalMs: 3_600_000 });
    await follower.start();
    await follower.caughtUp();
    const reads = jest.spyOn(store, 'readAll');
    const other = await store.append('member-a', [created('a')], { expectedVersion: 0, context });
    follower.wake(other.events);
    const own = await store.append('member-a', [renewed('a')], { expectedVersion: 1, context });
    const progressed = new Promise<void>((resolve) => follower.onProgress(() => resolve()));
    follower.wake(own.events);
    await progressed;
    expect(handled).toEqual([2]);
    expect(reads).toHaveBeenCalledTimes(1);
    await follower.stop();
  });
});
