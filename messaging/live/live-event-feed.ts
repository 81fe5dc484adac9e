// The live event feed of one process: ONE private queue (exclusive, auto-deleted with the process)
// bound to the event types its subscriptions need, fanned out in memory to every active listener.
// Each process instance has its own queue, so each instance sees each event once.
import { randomUUID } from 'node:crypto';
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import { ack, type Consumer, type EventBus } from '../bus/event-bus';
import type { Logger } from '../../platform/logger';
import { liveEventsLate } from '../monitor/metrics';

export type LiveListener = (event: AnyEventEnvelope) => void;
/**
 * The feed may have missed events after `after` (a global position): its queue was gone for a while
 * (the connection to its RabbitMQ node was lost, then restored, maybe on another node). A listener
 * that must not miss any reads them from the store.
 */
export type GapListener = (after: number) => void;

/**
 * Which events of its types a listener wants, as a key: it gets only the events whose
 * `keyOf(event)` is `key` (a payload's memberId, say). The feed indexes listeners by it, so an event
 * reaches its few listeners without calling every listener of its type. `keyOf` must be one
 * function shared by every listener keyed the same way (payloadKey gives one per field).
 */
export interface LiveRoute {
  readonly keyOf: (event: AnyEventEnvelope) => unknown;
  readonly key: string;
}

const payloadKeys = new Map<string, (event: AnyEventEnvelope) => unknown>();

/** The route key of a payload field (one function per field name, shared). */
export function payloadKey(field: string): (event: AnyEventEnvelope) => unknown {
  let keyOf = payloadKeys.get(field);
  if (!keyOf) payloadKeys.set(field, (keyOf = (event) => (event.payload as Record<string, unknown>)[field]));
  return keyOf;
}

/** What a subscription needs from the feed (a port, so tests can drive it by hand). */
export interface LiveEventSource {
  /** Listen to the given types (only to the events of `route`'s key, when given); returns the function that stops listening. */
  listen(types: readonly EventType[], listener: LiveListener, onGap?: GapListener, route?: LiveRoute): () => void;
}

export interface LiveEventFeedOptions {
  readonly types: readonly EventType[];
  /** Queue name prefix; a random suffix makes the queue this process's own. */
  readonly queuePrefix: string;
  readonly logger: Logger;
  /** Deliveries in flight from the broker; fan-out is synchronous, so this only bounds the socket. */
  readonly prefetch?: number;
  /**
   * The store's head, read before the queue exists: where a gap begins at the latest if one comes
   * before the feed has seen any event. Default 0 (then such a gap reports everything as missed).
   */
  readonly headPosition?: () => Promise<number>;
}

/**
 * Positions the feed remembers having dispatched, to tell a second copy of an event (the relay
 * publishes again after a failure: expected, the subscriptions skip it) from an event that arrives
 * after later ones, which the subscriptions past it skip too, but for good.
 */
export const RECENT_POSITIONS = 4096;

/** What a feed logs (as an error) for an event that came after later ones. */
export const LATE_EVENT_MESSAGE = 'an event reached the live feed after later ones: the subscriptions that had delivered those skipped it';

/** The listeners of one event type: those of every event, and those keyed by a route. */
interface TypeListeners {
  readonly all: Set<LiveListener>;
  readonly keyed: Map<(event: AnyEventEnvelope) => unknown, Map<string, Set<LiveListener>>>;
}

export class LiveEventFeed implements LiveEventSource {
  private readonly listeners = new Map<EventType, TypeListeners>();
  private readonly gapListeners = new Set<GapListener>();
  private consumer: Consumer | null = null;
  /** The highest position the feed received: after a gap, what it missed lies beyond it. */
  private seen = 0;
  /** The last RECENT_POSITIONS positions dispatched (a set, and a ring for their order). */
  private readonly recent = new Set<number>();
  private readonly ring: number[] = [];
  private ringNext = 0;
  /** Below or at it, the feed cannot tell a copy from a late event: its start, or what left the ring. */
  private floor = 0;
  /** Events that came after later ones (each logged as an error, and counted in `membership_live_events_late_total`). */
  lateArrivals = 0;

  private constructor(
    private readonly options: LiveEventFeedOptions,
  ) {}

  static async start(bus: EventBus, options: LiveEventFeedOptions): Promise<LiveEventFeed> {
    const feed = new LiveEventFeed(options);
    feed.seen = (await options.headPosition?.()) ?? 0;
    feed.floor = feed.seen;
    feed.consumer = await bus.consume(
      {
        queue: `${options.queuePrefix}.${randomUUID()}`,
        bindings: [...new Set(options.types)],
        exclusive: true,
        prefetch: options.prefetch ?? 100,
        onResumed: () => feed.gap(),
      },
      async (event) => {
        feed.dispatch(event);
        return ack;
      },
    );
    return feed;
  }

  get queue(): string | null {
    return this.consumer?.queue ?? null;
  }

  /** Number of active listeners (for metrics and tests). */
  get listenerCount(): number {
    let n = 0;
    for (const { all, keyed } of this.listeners.values()) {
      n += all.size;
      for (const byKey of keyed.values()) for (const set of byKey.values()) n += set.size;
    }
    return n;
  }

  listen(types: readonly EventType[], listener: LiveListener, onGap?: GapListener, route?: LiveRoute): () => void {
    const bound = new Set(this.options.types);
    const unbound = types.filter((t) => !bound.has(t));
    if (unbound.length > 0) {
      throw new Error(`The live event feed is not bound to ${unbound.join(', ')}: add them to its types.`);
    }
    const sets = types.map((type) => this.listenerSet(type, route));
    for (const set of sets) set.add(listener);
    if (onGap) this.gapListeners.add(onGap);
    return () => {
      types.forEach((type, index) => {
        const set = sets[index] as Set<LiveListener>;
        set.delete(listener);
        if (route && set.size === 0) {
          const byKey = this.listeners.get(type)?.keyed.get(route.keyOf);
          if (byKey?.get(route.key) === set) byKey.delete(route.key);
        }
      });
      if (onGap) this.gapListeners.delete(onGap);
    };
  }

  private listenerSet(type: EventType, route: LiveRoute | undefined): Set<LiveListener> {
    let entry = this.listeners.get(type);
    if (!entry) this.listeners.set(type, (entry = { all: new Set(), keyed: new Map() }));
    if (!route) return entry.all;
    let byKey = entry.keyed.get(route.keyOf);
    if (!byKey) entry.keyed.set(route.keyOf, (byKey = new Map()));
    let set = byKey.get(route.key);
    if (!set) byKey.set(route.key, (set = new Set()));
    return set;
  }

  /** Tell every listener that events after the last one seen may have been missed. */
  gap(): void {
    const after = this.seen;
    this.options.logger.warn({ after }, 'live queue declared anew after a lost connection: subscriptions catch up from the store');
    for (const listener of [...this.gapListeners]) {
      try {
        listener(after);
      } catch (error) {
        this.options.logger.error({ err: error }, 'live gap listener failed');
      }
    }
  }

  /** Hand one event to its listeners; exposed for in-process wiring and tests. */
  dispatch(event: AnyEventEnvelope): void {
    this.checkOrder(event);
    if (event.position > this.seen) this.seen = event.position;
    const entry = this.listeners.get(event.type);
    if (!entry) return;
    if (entry.all.size > 0) this.notify([...entry.all], event);
    for (const [keyOf, byKey] of entry.keyed) {
      const key = keyOf(event);
      const set = typeof key === 'string' ? byKey.get(key) : undefined;
      if (set && set.size > 0) this.notify([...set], event);
    }
  }

  /**
   * The relay sends the first copy of every event in store order, so an event below the highest
   * position seen is a copy of one dispatched already. One the feed never dispatched came after
   * later ones: every subscription that delivered those skips it (a cursor only moves forward).
   * Nothing here can give it back to them; it is logged as the error it is.
   */
  private checkOrder(event: AnyEventEnvelope): void {
    const { position } = event;
    if (this.recent.has(position)) return;
    if (position < this.seen && position > this.floor) {
      this.lateArrivals++;
      liveEventsLate.inc({ type: event.type });
      this.options.logger.error({ eventId: event.id, type: event.type, position, after: this.seen }, LATE_EVENT_MESSAGE);
    }
    this.recent.add(position);
    if (this.ring.length < RECENT_POSITIONS) {
      this.ring.push(position);
      return;
    }
    const dropped = this.ring[this.ringNext] as number;
    this.recent.delete(dropped);
    if (dropped > this.floor) this.floor = dropped;
    this.ring[this.ringNext] = position;
    this.ringNext = (this.ringNext + 1) % RECENT_POSITIONS;
  }

  private notify(listeners: readonly LiveListener[], event: AnyEventEnvelope): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        // One broken subscription must not starve the others, nor make the broker redeliver.
        this.options.logger.error({ err: error, eventId: event.id }, 'live event listener failed');
      }
    }
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.listeners.clear();
    await consumer?.close();
  }
}
