// The live event feed of one process: ONE private queue (exclusive, auto-deleted with the process)
// bound to the event types its subscriptions need, fanned out in memory to every active listener.
// Each process instance has its own queue, so each instance sees each event once.
import { randomUUID } from 'node:crypto';
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import { ack, type Consumer, type EventBus } from '../bus/event-bus';
import type { Logger } from '../../platform/logger';

export type LiveListener = (event: AnyEventEnvelope) => void;
/**
 * The feed may have missed events after `after` (a global position): its queue was gone for a while
 * (the connection to its RabbitMQ node was lost, then restored, maybe on another node). A listener
 * that must not miss any reads them from the store.
 */
export type GapListener = (after: number) => void;

/** What a subscription needs from the feed (a port, so tests can drive it by hand). */
export interface LiveEventSource {
  /** Listen to the given types; returns the function that stops listening. */
  listen(types: readonly EventType[], listener: LiveListener, onGap?: GapListener): () => void;
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

export class LiveEventFeed implements LiveEventSource {
  private readonly listeners = new Map<EventType, Set<LiveListener>>();
  private readonly gapListeners = new Set<GapListener>();
  private consumer: Consumer | null = null;
  /** The highest position the feed received: after a gap, what it missed lies beyond it. */
  private seen = 0;

  private constructor(
    private readonly options: LiveEventFeedOptions,
  ) {}

  static async start(bus: EventBus, options: LiveEventFeedOptions): Promise<LiveEventFeed> {
    const feed = new LiveEventFeed(options);
    feed.seen = (await options.headPosition?.()) ?? 0;
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
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  listen(types: readonly EventType[], listener: LiveListener, onGap?: GapListener): () => void {
    const bound = new Set(this.options.types);
    const unbound = types.filter((t) => !bound.has(t));
    if (unbound.length > 0) {
      throw new Error(`The live event feed is not bound to ${unbound.join(', ')}: add them to its types.`);
    }
    for (const type of types) {
      let set = this.listeners.get(type);
      if (!set) this.listeners.set(type, (set = new Set()));
      set.add(listener);
    }
    if (onGap) this.gapListeners.add(onGap);
    return () => {
      for (const type of types) this.listeners.get(type)?.delete(listener);
      if (onGap) this.gapListeners.delete(onGap);
    };
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
    if (event.position > this.seen) this.seen = event.position;
    const set = this.listeners.get(event.type);
    if (!set) return;
    for (const listener of [...set]) {
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
