// A subscription's event stream when its live feed loses events: the feed's queue was gone while its
// RabbitMQ connection was down (a cluster node died), and the feed reports the gap. The stream reads
// what it missed from the store and goes on live: the subscriber sees every event once, in order.
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import type { EventType } from '../../messaging/events/catalog';
import { entityEventStream } from '../../messaging/live/entity-event-stream';
import type { GapListener, LiveEventSource, LiveListener } from '../../messaging/live/live-event-feed';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';

/** A live feed driven by hand: the test decides which appended events it "received". */
class ManualFeed implements LiveEventSource {
  private readonly listeners = new Set<LiveListener>();
  private readonly gapListeners = new Set<GapListener>();
  listen(_types: readonly EventType[], listener: LiveListener, onGap?: GapListener): () => void {
    this.listeners.add(listener);
    if (onGap) this.gapListeners.add(onGap);
    return () => {
      this.listeners.delete(listener);
      if (onGap) this.gapListeners.delete(onGap);
    };
  }
  deliver(events: readonly AnyEventEnvelope[]): void {
    for (const event of events) for (const listener of this.listeners) listener(event);
  }
  gap(after: number): void {
    for (const listener of this.gapListeners) listener(after);
  }
}

const memberId = 'm-1';
const types = ['member.profile.updated'] as const;

async function update(store: MemoryEventStore, n: number, member = memberId): Promise<readonly AnyEventEnvelope[]> {
  const { events } = await store.append(
    `member-${member}`,
    [{ type: 'member.profile.updated', payload: { memberId: member, changes: { firstName: { before: `v${n - 1}`, after: `v${n}` } } } }],
    { expectedVersion: 'any', context: { correlationId: `c-${n}`, causationId: null, actor: { id: 'test', role: 'system' } } },
  );
  return events;
}

async function take(stream: AsyncIterableIterator<AnyEventEnvelope>, count: number): Promise<number[]> {
  const positions: number[] = [];
  while (positions.length < count) {
    const next = await stream.next();
    if (next.done) throw new Error('the stream ended');
    positions.push(next.value.position);
  }
  return positions;
}

describe('entityEventStream after a gap in its live feed', () => {
  it('reads what the feed missed from the store, then goes on live, with no gap and no duplicate', async () => {
    const store = new MemoryEventStore();
    const feed = new ManualFeed();
    const stream = entityEventStream({ live: feed, store, types, matches: (e) => (e.payload as { memberId?: string }).memberId === memberId, after: null, bufferSize: 100 });
    const first = await update(store, 1);
    feed.deliver(first);
    expect(await take(stream, 1)).toEqual([first[0]!.position]);

    // The feed's queue is gone: these are stored (and published) but never reach it; another
    // member's event among them must not leak into this stream.
    const missed = [...(await update(store, 2)), ...(await update(store, 2, 'm-2')), ...(await update(store, 3))];
    feed.gap(first[0]!.position);
    // Back live: one new event arrives live, and one of the missed ones is delivered live as well
    // (a late copy, from an in-flight publish): neither may come twice or out of order.
    const after = await update(store, 4);
    feed.deliver([...after, missed[2]!]);
    const rest = await take(stream, 3);
    expect(rest).toEqual([missed[0]!.position, missed[2]!.position, after[0]!.position]);
    await stream.return?.();
  });

  it('reads again when a second gap comes while it is still catching up from the first', async () => {
    const store = new MemoryEventStore();
    const feed = new ManualFeed();
    const stream = entityEventStream({ live: feed, store, types, matches: () => true, after: null, bufferSize: 100 });
    const a = await update(store, 1);
    feed.deliver(a);
    await take(stream, 1);
    const b = await update(store, 2);
    feed.gap(a[0]!.position);
    // Before the first catch-up has run (it is asynchronous), the feed loses its queue again.
    const c = await update(store, 3);
    feed.gap(a[0]!.position);
    const d = await update(store, 4);
    feed.deliver(d);
    expect(await take(stream, 3)).toEqual([b[0]!.position, c[0]!.position, d[0]!.position]);
    await stream.return?.();
  });

  it('delivers nothing twice when the feed reports a gap it did not really have', async () => {
    const store = new MemoryEventStore();
    const feed = new ManualFeed();
    const stream = entityEventStream({ live: feed, store, types, matches: () => true, after: null, bufferSize: 100 });
    const events = [...(await update(store, 1)), ...(await update(store, 2))];
    feed.deliver(events);
    expect(await take(stream, 2)).toEqual(events.map((e) => e.position));
    feed.gap(0);
    const next = await update(store, 3);
    feed.deliver(next);
    expect(await take(stream, 1)).toEqual([next[0]!.position]);
    await stream.return?.();
  });
});
