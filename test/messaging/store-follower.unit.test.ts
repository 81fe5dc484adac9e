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
      // Saved after every batch: the checkpoint holds the head as soon as the follower caught up.
      { types: ['membership.renewed'], pollIntervalMs: 3_600_000, saveDelayMs: 0 },
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

/** A checkpoint that records its saves, can fail the next one, and tells when it was written. */
function recordingCheckpoint() {
  let position = 0;
  let failNext = false;
  const saves: number[] = [];
  let waiter: { after: number; resolve: () => void } | null = null;
  return {
    saves,
    failNextSave: () => (failNext = true),
    /** Resolves once `count` saves have been attempted in all. */
    attempts: (count: number) => new Promise<void>((resolve) => (waiter = { after: count, resolve })),
    checkpoint: {
      load: async () => position,
      save: async (p: number) => {
        saves.push(p);
        if (waiter && saves.length >= waiter.after) waiter.resolve();
        if (failNext) {
          failNext = false;
          throw new Error('checkpoint store unavailable');
        }
        position = p;
      },
    },
    stored: () => position,
  };
}

describe('StoreFollower writing its position behind', () => {
  const follow = (store: MemoryEventStore, checkpoint: { load(): Promise<number>; save(p: number): Promise<void> }, saveDelayMs: number) =>
    new StoreFollower('behind', store, checkpoint, async () => undefined, loggerFor('test'), { pollIntervalMs: 3_600_000, saveDelayMs });

  it('does not write after each batch, and writes the position reached when it stops', async () => {
    const store = new MemoryEventStore(new ManualClock());
    const recorded = recordingCheckpoint();
    const follower = follow(store, recorded.checkpoint, 3_600_000);
    await follower.start();
    for (let i = 0; i < 3; i++) {
      await store.append(`member-w${i}`, [created(`w${i}`)], { expectedVersion: 0, context });
      await follower.caughtUp();
    }
    expect(follower.status().position).toBe(3);
    expect(recorded.saves).toEqual([]);
    await follower.stop();
    expect(recorded.saves).toEqual([3]);
    expect(recorded.stored()).toBe(3);
  });

  it('writes once the delay passed, and tries again after a failed write', async () => {
    const store = new MemoryEventStore(new ManualClock());
    const recorded = recordingCheckpoint();
    const follower = follow(store, recorded.checkpoint, 1);
    await follower.start();
    recorded.failNextSave();
    const twoAttempts = recorded.attempts(2);
    await store.append('member-x', [created('x')], { expectedVersion: 0, context });
    await follower.caughtUp();
    await twoAttempts;
    expect(recorded.saves).toEqual([1, 1]);
    expect(recorded.stored()).toBe(1);
    expect(follower.status().lastError).toMatch(/checkpoint store unavailable/);
    await follower.stop();
    // Nothing moved since: stopping writes nothing more.
    expect(recorded.saves).toEqual([1, 1]);
  });
});

/** A store whose next read waits, once held, until the test opens it (`reached` once a batch waits). */
class GatedStore extends MemoryEventStore {
  private gate: { reached: () => void; opened: Promise<void> } | null = null;
  hold(): { reached: Promise<void>; open: () => void } {
    let reached: () => void = () => undefined;
    let open: () => void = () => undefined;
    const reachedP = new Promise<void>((resolve) => (reached = resolve));
    this.gate = { reached, opened: new Promise<void>((resolve) => (open = resolve)) };
    return { reached: reachedP, open };
  }
  override async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    for await (const batch of super.readAll(options)) {
      const gate = this.gate;
      if (gate) {
        this.gate = null;
        gate.reached();
        await gate.opened;
      }
      yield batch;
    }
  }
}

/**
 * A handler's promise that tells whether anyone took up its outcome: Node ends the process on a
 * rejection nobody handles, and a rejection is unhandled when no handler was attached to it by then.
 */
class Watched extends Promise<void> {
  static override get [Symbol.species]() {
    return Promise;
  }
  handled = false;
  override then<A = void, B = never>(onFulfilled?: ((value: void) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.handled = true;
    return super.then(onFulfilled, onRejected);
  }
}

describe('StoreFollower with a pipeline', () => {
  /**
   * A relay-like follower (pipeline 4) whose handler finishes each batch when the test says: started
   * on one event, then woken for a second while the first batch is still in flight.
   */
  async function twoBatchesInFlight(options: { initialBackoffMs?: number; pipelineEvents?: number } = {}) {
    const store = new MemoryEventStore(new ManualClock());
    // positionThen: the follower's saved position when the batch was handed on.
    const calls: { positions: number[]; finish: (error?: Error) => void; result: Watched; positionThen: number }[] = [];
    let follower: StoreFollower | null = null;
    let announce: (() => void) | null = null;
    const nextCall = () => new Promise<void>((resolve) => (announce = resolve));
    const handle = (batch: readonly AnyEventEnvelope[]) => {
      let finish: (error?: Error) => void = () => undefined;
      const result = new Watched((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
      calls.push({ positions: batch.map((e) => e.position), finish, result, positionThen: follower?.status().position ?? -1 });
      announce?.();
      return result;
    };
    follower = new StoreFollower('relay', store, memoryCheckpoint(), handle, loggerFor('test'), { pipeline: 4, pollIntervalMs: 3_600_000, ...options });
    const positions: number[] = [];
    follower.onProgress((s) => positions.push(s.position));
    await store.append('member-a', [created('a')], { expectedVersion: 0, context });
    let call = nextCall();
    await follower.start();
    await call;
    // Batch [1] is in flight; an append and its wake hand on [2] without waiting for it.
    call = nextCall();
    follower.wake((await store.append('member-a', [renewed('a')], { expectedVersion: 1, context })).events);
    await call;
    const reaching = (position: number) => new Promise<void>((resolve) => follower.onProgress((s) => s.position === position && resolve()));
    return { follower, calls, nextCall, positions, reaching, store };
  }

  it('hands on a third batch at once while the pipeline has room', async () => {
    const { follower, calls, nextCall, store } = await twoBatchesInFlight();
    const call = nextCall();
    follower.wake((await store.append('member-a', [renewed('a')], { expectedVersion: 2, context })).events);
    await call;
    // [1] and [2] are still in flight: nothing was saved before [3] went out.
    expect(calls.map((c) => [c.positions, c.positionThen])).toEqual([[[1], 0], [[2], 0], [[3], 0]]);
    for (const c of calls) c.finish();
    await follower.stop();
  });

  it('waits for the oldest batch once the events in flight reach pipelineEvents', async () => {
    const { follower, calls, nextCall, store } = await twoBatchesInFlight({ pipelineEvents: 2 });
    const call = nextCall();
    follower.wake((await store.append('member-a', [renewed('a')], { expectedVersion: 2, context })).events);
    calls[0]?.finish();
    await call;
    // Two events were in flight: [3] went out only once [1] was confirmed and its position saved.
    expect(calls.map((c) => [c.positions, c.positionThen])).toEqual([[[1], 0], [[2], 0], [[3], 1]]);
    for (const c of calls.slice(1)) c.finish();
    await follower.stop();
  });

  it('hands on what was appended while a batch is in flight, and moves the position in order', async () => {
    const { follower, calls, positions, reaching } = await twoBatchesInFlight();
    expect(calls.map((c) => c.positions)).toEqual([[1], [2]]);
    expect(follower.status().position).toBe(0);
    // The second finishes first: the position still moves to 1, then to 2.
    const done = reaching(2);
    calls[1]?.finish();
    calls[0]?.finish();
    await done;
    expect(positions).toEqual([1, 2]);
    expect(follower.status().handled).toBe(2);
    await follower.stop();
  });

  it('hands on again from its position everything after a batch that failed', async () => {
    const { follower, calls, nextCall, reaching } = await twoBatchesInFlight({ initialBackoffMs: 1 });
    // [2] went out, then [1] fails: both are handed on again, in one batch, from position 0.
    const call = nextCall();
    calls[1]?.finish();
    calls[0]?.finish(new Error('the broker did not confirm'));
    await call;
    expect(calls.map((c) => c.positions)).toEqual([[1], [2], [1, 2]]);
    expect(follower.status()).toMatchObject({ position: 0, failures: 1, lastError: 'the broker did not confirm' });
    const done = reaching(2);
    calls[2]?.finish();
    await done;
    await follower.stop();
  });

  it('hands on nothing read after a batch failed until that batch is handed on again', async () => {
    // The relay reading [2] when [1] fails: handed on then, [2] would be published (on the
    // connection that comes back) before [1] is published again, and a queue would get it first.
    const store = new GatedStore(new ManualClock());
    const calls: { positions: number[]; finish: (error?: Error) => void }[] = [];
    let announce: (() => void) | null = null;
    const nextCall = () => new Promise<void>((resolve) => (announce = resolve));
    const follower = new StoreFollower(
      'relay',
      store,
      memoryCheckpoint(),
      (batch) =>
        new Promise<void>((resolve, reject) => {
          calls.push({ positions: batch.map((e) => e.position), finish: (error) => (error ? reject(error) : resolve()) });
          announce?.();
        }),
      loggerFor('test'),
      { pipeline: 4, pollIntervalMs: 3_600_000, initialBackoffMs: 1 },
    );
    try {
      await store.append('member-a', [created('a')], { expectedVersion: 0, context });
      let call = nextCall();
      await follower.start();
      await call;
      // [1] is in flight; [2] is appended and the follower, woken, reads it: the read waits.
      const gate = store.hold();
      follower.wake((await store.append('member-a', [renewed('a')], { expectedVersion: 1, context })).events);
      await gate.reached;
      calls[0]?.finish(new Error('connection lost'));
      await new Promise((resolve) => setImmediate(resolve));
      call = nextCall();
      gate.open();
      await call;
      // [2] was not handed on alone: [1] and [2] went out again together, from position 0.
      expect(calls.map((c) => c.positions)).toEqual([[1], [1, 2]]);
      expect(follower.status()).toMatchObject({ position: 0, failures: 1, lastError: 'connection lost' });
    } finally {
      for (const c of calls) c.finish();
      await follower.stop();
    }
  });

  it('handles a later batch failing while an earlier one is still in flight', async () => {
    // Node ends a process on a rejection nobody handles: a worker's relay died this way when the
    // broker rejected a pipelined batch while the one before it still waited for its confirm.
    const { follower, calls, nextCall, reaching } = await twoBatchesInFlight({ initialBackoffMs: 1 });
    try {
      // Both outcomes are taken up while both batches are in flight, whichever settles first.
      expect(calls.map((c) => c.result.handled)).toEqual([true, true]);
      calls[1]?.finish(new Error('message rejected by server'));
      // [1] went out: the position moves to 1, and [2] is handed on again from there.
      const call = nextCall();
      calls[0]?.finish();
      await call;
      expect(calls.map((c) => c.positions)).toEqual([[1], [2], [2]]);
      expect(follower.status()).toMatchObject({ position: 1, failures: 1, lastError: 'message rejected by server' });
      const done = reaching(2);
      calls[2]?.finish();
      await done;
    } finally {
      for (const c of calls) c.finish();
      await follower.stop();
    }
  });
});
