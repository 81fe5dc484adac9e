// The process's live event feed hands each event to the listeners of its type: all of them when
// unkeyed, and, for a listener keyed by a route (a payload field's value), only the events with
// that key, found by index rather than by calling every listener of the type.
import pino from 'pino';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { LiveEventFeed, payloadKey, RECENT_POSITIONS } from '../../messaging/live/live-event-feed';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { liveEventsLate } from '../../messaging/monitor/metrics';

async function updates(store: MemoryEventStore, members: readonly string[]): Promise<AnyEventEnvelope[]> {
  const out: AnyEventEnvelope[] = [];
  for (const [n, memberId] of members.entries()) {
    const { events } = await store.append(
      `member-${memberId}`,
      [{ type: 'member.profile.updated', payload: { memberId, changes: { firstName: { before: `v${n}`, after: `v${n + 1}` } } } }],
      { expectedVersion: 'any', context: { correlationId: `c-${n}`, causationId: null, actor: { id: 'test', role: 'system' } } },
    );
    out.push(...events);
  }
  return out;
}

describe('LiveEventFeed', () => {
  const logger = pino({ level: 'silent' });

  it('routes keyed listeners by their key and unkeyed ones to every event of their types', async () => {
    const feed = await LiveEventFeed.start(new InProcessEventBus(), { types: ['member.profile.updated'], queuePrefix: 'live.test', logger });
    const byMember = payloadKey('memberId');
    expect(payloadKey('memberId')).toBe(byMember);
    const got: Record<string, string[]> = { a: [], a2: [], b: [], all: [] };
    const listenerOf = (name: string) => (event: AnyEventEnvelope) => got[name]?.push((event.payload as { memberId: string }).memberId);
    const stopA = feed.listen(['member.profile.updated'], listenerOf('a'), undefined, { keyOf: byMember, key: 'm-a' });
    feed.listen(['member.profile.updated'], listenerOf('a2'), undefined, { keyOf: byMember, key: 'm-a' });
    feed.listen(['member.profile.updated'], listenerOf('b'), undefined, { keyOf: byMember, key: 'm-b' });
    feed.listen(['member.profile.updated'], listenerOf('all'));
    expect(feed.listenerCount).toBe(4);

    const events = await updates(new MemoryEventStore(), ['m-a', 'm-b', 'm-c', 'm-a']);
    for (const event of events) feed.dispatch(event);
    expect(got).toEqual({ a: ['m-a', 'm-a'], a2: ['m-a', 'm-a'], b: ['m-b'], all: ['m-a', 'm-b', 'm-c', 'm-a'] });

    stopA();
    expect(feed.listenerCount).toBe(3);
    for (const event of events.slice(0, 1)) feed.dispatch(event);
    expect(got.a).toEqual(['m-a', 'm-a']);
    expect(got.a2).toEqual(['m-a', 'm-a', 'm-a']);
    await feed.close();
  });

  it('keeps dispatching to the others when one listener throws', async () => {
    const feed = await LiveEventFeed.start(new InProcessEventBus(), { types: ['member.profile.updated'], queuePrefix: 'live.test', logger });
    const got: string[] = [];
    feed.listen(['member.profile.updated'], () => {
      throw new Error('broken subscription');
    }, undefined, { keyOf: payloadKey('memberId'), key: 'm-a' });
    feed.listen(['member.profile.updated'], (event) => got.push(event.id), undefined, { keyOf: payloadKey('memberId'), key: 'm-a' });
    const [event] = await updates(new MemoryEventStore(), ['m-a']);
    feed.dispatch(event as AnyEventEnvelope);
    expect(got).toEqual([event?.id]);
    await feed.close();
  });

  it('logs an event that comes after later ones as an error, and not a copy of one it dispatched', async () => {
    const store = new MemoryEventStore();
    const before = await updates(store, ['m-0']);
    const lines: { level: number; msg: string; position?: number; after?: number }[] = [];
    const errors = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    // Started with one event in the store: what the relay publishes of it later is no news.
    const feed = await LiveEventFeed.start(new InProcessEventBus(), { types: ['member.profile.updated'], queuePrefix: 'live.test', logger: errors, headPosition: () => store.headPosition() });
    const [e2, e3, e4] = await updates(store, ['m-a', 'm-b', 'm-c']);
    const got: number[] = [];
    feed.listen(['member.profile.updated'], (event) => got.push(event.position));
    // The relay's copies after a failure: 2 again, and 1 from before the feed started.
    const lateBefore = (await liveEventsLate.get()).values.find((v) => v.labels.type === 'member.profile.updated')?.value ?? 0;
    for (const event of [e2, e4, e2, ...before]) feed.dispatch(event as AnyEventEnvelope);
    expect(feed.lateArrivals).toBe(0);
    // 3 arrives after 4: logged, and still handed on (a listener not past it takes it).
    feed.dispatch(e3 as AnyEventEnvelope);
    expect(got).toEqual([2, 4, 2, 1, 3]);
    expect(feed.lateArrivals).toBe(1);
    expect((await liveEventsLate.get()).values.find((v) => v.labels.type === 'member.profile.updated')?.value).toBe(lateBefore + 1);
    expect(lines).toEqual([expect.objectContaining({ level: 50, position: 3, after: 4, msg: expect.stringMatching(/after later ones/) })]);
    // Its copy is a copy.
    feed.dispatch(e3 as AnyEventEnvelope);
    expect(feed.lateArrivals).toBe(1);
    await feed.close();
  });

  it('forgets the oldest positions past RECENT_POSITIONS: a copy of one of them is not taken for a late event', async () => {
    const feed = await LiveEventFeed.start(new InProcessEventBus(), { types: ['member.profile.updated'], queuePrefix: 'live.test', logger });
    const [first] = await updates(new MemoryEventStore(), ['m-a']);
    const at = (position: number) => ({ ...(first as AnyEventEnvelope), position });
    for (let position = 1; position <= RECENT_POSITIONS + 10; position++) feed.dispatch(at(position));
    // 5 left the ring: below the floor, a copy of it cannot be told from a late event, and is not reported.
    feed.dispatch(at(5));
    expect(feed.lateArrivals).toBe(0);
    await feed.close();
  });
});
