// The on-demand live feed: the types only `eventFlow` needs are bound while someone listens, so
// every event of the deployment does not cross the analytics live queue when nobody watches.
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { eventTypes } from '../../messaging/events/catalog';
import type { ConsumeOptions, Consumer, EventBus, EventHandler } from '../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { entityEventStream } from '../../messaging/live/entity-event-stream';
import type { LiveEventSource } from '../../messaging/live/live-event-feed';
import { ON_DEMAND_LINGER_MS, OnDemandLiveFeed, splitLiveSource } from '../../messaging/live/on-demand-live-feed';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { ManualClock } from '../../platform/clock';
import { loggerFor } from '../../platform/logger';

/** The in-process bus, counting the live queues consumed and closed. */
function countingBus(): { bus: EventBus; consumed: string[]; closed: Promise<string>[]; inner: InProcessEventBus } {
  const inner = new InProcessEventBus();
  const consumed: string[] = [];
  const closed: Promise<string>[] = [];
  const bus = Object.create(inner) as EventBus;
  bus.consume = async (options: ConsumeOptions, handler: EventHandler): Promise<Consumer> => {
    const consumer = await inner.consume(options, handler);
    consumed.push(options.queue);
    const close = consumer.close.bind(consumer);
    return Object.assign(Object.create(consumer) as Consumer, {
      close: () => {
        const done = close().then(() => options.queue);
        closed.push(done);
        return done;
      },
    });
  };
  return { bus, consumed, closed, inner };
}

async function created(store: MemoryEventStore, bus: EventBus | null, id: string): Promise<AnyEventEnvelope> {
  const { events } = await store.append(`member-${id}`, [{ type: 'member.created', payload: { memberId: id, email: `${id}@example.org`, firstName: 'A', lastName: 'B', tier: 'basic' } }], {
    expectedVersion: 'any',
    context: { correlationId: `c-${id}`, causationId: null, actor: { id: 'test', role: 'system' } },
  });
  await bus?.publish(events);
  return events[0] as AnyEventEnvelope;
}

async function take(stream: AsyncIterableIterator<AnyEventEnvelope>, count: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) {
    const next = await stream.next();
    if (next.done) throw new Error('the stream ended');
    ids.push((next.value.payload as { memberId: string }).memberId);
  }
  return ids;
}

describe('OnDemandLiveFeed', () => {
  const logger = loggerFor('test');

  it('binds no queue until a subscription needs it, and catches a listener up on what was stored while it was bound', async () => {
    const { bus, consumed } = countingBus();
    const store = new MemoryEventStore();
    const feed = new OnDemandLiveFeed({ bus, types: eventTypes, queuePrefix: 'live.analytics.on-demand', logger, headPosition: () => store.headPosition(), timers: new ManualClock() });
    await created(store, bus, 'before');
    expect(consumed).toEqual([]);

    const stream = entityEventStream({ live: feed, store, types: ['member.created'], matches: () => true, after: null, bufferSize: 100 });
    // Stored after the subscription came but never published to the feed (as when it is published
    // before the feed's queue exists): only the catch-up from the store can bring it.
    await created(store, null, 'while-binding');
    expect(await take(stream, 1)).toEqual(['while-binding']);
    expect(consumed).toHaveLength(1);
    expect(consumed[0]).toMatch(/^live\.analytics\.on-demand\./);
    // Then live, once each.
    await created(store, bus, 'live');
    expect(await take(stream, 1)).toEqual(['live']);
    await stream.return?.();
    await feed.close();
  });

  it('unbinds a linger time after the last listener left, keeps the queue for one that comes back in time, and binds anew later', async () => {
    const { bus, consumed, closed } = countingBus();
    const store = new MemoryEventStore();
    const clock = new ManualClock();
    const feed = new OnDemandLiveFeed({ bus, types: eventTypes, queuePrefix: 'live.analytics.on-demand', logger, headPosition: () => store.headPosition(), timers: clock });
    const first = entityEventStream({ live: feed, store, types: ['member.created'], matches: () => true, after: null, bufferSize: 100 });
    await created(store, bus, 'a');
    expect(await take(first, 1)).toEqual(['a']);
    await first.return?.();
    expect(clock.pendingTimers).toBe(1);
    expect(feed.bound).toBe(true);

    // Back before the linger ran out: the same queue.
    const second = entityEventStream({ live: feed, store, types: ['member.created'], matches: () => true, after: null, bufferSize: 100 });
    expect(clock.pendingTimers).toBe(0);
    await created(store, bus, 'b');
    expect(await take(second, 1)).toEqual(['b']);
    expect(consumed).toHaveLength(1);
    await second.return?.();

    clock.advance(ON_DEMAND_LINGER_MS);
    expect(feed.bound).toBe(false);
    expect(await Promise.all(closed)).toEqual([consumed[0]]);

    const third = entityEventStream({ live: feed, store, types: ['member.created'], matches: () => true, after: null, bufferSize: 100 });
    await created(store, bus, 'c');
    expect(await take(third, 1)).toEqual(['c']);
    expect(consumed).toHaveLength(2);
    await third.return?.();
    await feed.close();
  });

  it('while the broker is away, tries to bind again with a growing delay, and then catches the listener up on what it missed', async () => {
    const { bus, consumed } = countingBus();
    let refusals = 2;
    const consume = bus.consume.bind(bus);
    const tries: number[] = [];
    const clock = new ManualClock();
    bus.consume = (options, handler) => {
      tries.push(clock.now().getTime());
      if (refusals-- > 0) return Promise.reject(new Error('connection refused'));
      return consume(options, handler);
    };
    const store = new MemoryEventStore();
    const feed = new OnDemandLiveFeed({ bus, types: eventTypes, queuePrefix: 'live.analytics.on-demand', logger, headPosition: () => store.headPosition(), timers: clock, retryMs: 1000 });
    /** Let the feed's pending steps run (no time passes on the clock). */
    const settle = async (until: () => boolean) => {
      for (let turn = 0; turn < 1000 && !until(); turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(until()).toBe(true);
    };
    const stream = entityEventStream({ live: feed, store, types: ['member.created'], matches: () => true, after: null, bufferSize: 100 });
    await settle(() => feed.failedBindTries === 1);
    // Stored while no queue could be bound: only the catch-up brings it.
    await created(store, bus, 'during-outage');

    clock.advance(1000);
    await settle(() => feed.failedBindTries === 2);
    // The second failure waits twice as long.
    clock.advance(1999);
    await settle(() => tries.length === 2);
    expect(feed.bound).toBe(false);
    clock.advance(1);
    await settle(() => feed.bound);
    expect(tries.map((t) => t - (tries[0] as number))).toEqual([0, 1000, 3000]);
    expect(feed.failedBindTries).toBe(0);
    expect(consumed).toHaveLength(1);

    expect(await take(stream, 1)).toEqual(['during-outage']);
    await created(store, bus, 'live');
    expect(await take(stream, 1)).toEqual(['live']);
    await stream.return?.();
    await feed.close();
  });

  it('refuses a type it does not carry', () => {
    const { bus } = countingBus();
    const feed = new OnDemandLiveFeed({ bus, types: ['member.created'], queuePrefix: 'q', logger, headPosition: async () => 0, timers: new ManualClock() });
    expect(() => feed.listen(['payment.initiated'], () => undefined)).toThrow(/does not carry payment\.initiated/);
  });
});

describe('splitLiveSource', () => {
  it('sends a subscription within the always-bound types to the process feed, any other to the on-demand feed', () => {
    const calls: string[] = [];
    const source = (name: string): LiveEventSource => ({
      listen: (types) => {
        calls.push(`${name}:${types.join(',')}`);
        return () => undefined;
      },
    });
    const split = splitLiveSource(source('always'), ['replay.started', 'replay.completed'], source('on-demand') as unknown as OnDemandLiveFeed);
    split.listen(['replay.started'], () => undefined);
    split.listen(['replay.started', 'member.created'], () => undefined);
    expect(calls).toEqual(['always:replay.started', 'on-demand:replay.started,member.created']);
  });
});
