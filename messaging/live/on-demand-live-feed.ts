// Live event types a process binds only while someone listens to them. The console's `eventFlow`
// takes every event type; bound always, every event would cross the analytics subgraph's live queue
// even when nobody watches. Subscriptions within the always-bound types use the process's feed;
// the others get a second feed (its own exclusive queue) started on the first listener and closed
// a linger time after the last one left.
import type { EventType } from '../events/catalog';
import type { Logger } from '../../platform/logger';
import { backgroundTimers, type Timers } from '../../platform/clock';
import { FailureStreak } from '../../platform/failure-streak';
import type { EventBus } from '../bus/event-bus';
import { LiveEventFeed, type GapListener, type LiveEventSource, type LiveListener, type LiveRoute } from './live-event-feed';

/** How long the on-demand feed outlives its last listener: a console reload does not redeclare it. */
export const ON_DEMAND_LINGER_MS = 30_000;

export interface OnDemandLiveFeedOptions {
  readonly bus: EventBus;
  readonly types: readonly EventType[];
  readonly queuePrefix: string;
  readonly logger: Logger;
  /** The store's head: where a listener registered before the feed was bound catches up from. */
  readonly headPosition: () => Promise<number>;
  readonly lingerMs?: number;
  /** Delay before the first new try when binding the feed failed (the broker is away); it doubles up to maxRetryMs. */
  readonly retryMs?: number;
  /** The longest delay between tries (default 30 s). */
  readonly maxRetryMs?: number;
  /** Timers (tests move a ManualClock past the linger). */
  readonly timers?: Timers;
}

interface Registration {
  readonly types: readonly EventType[];
  readonly listener: LiveListener;
  readonly onGap: GapListener | undefined;
  readonly route: LiveRoute | undefined;
  /** The head when the listener came: what it missed while the feed was being bound lies after it. */
  readonly headAtListen: Promise<number> | null;
  stop: (() => void) | null;
}

export class OnDemandLiveFeed implements LiveEventSource {
  private readonly registrations = new Set<Registration>();
  private feed: LiveEventFeed | null = null;
  private starting = false;
  private stopping: Promise<void> = Promise.resolve();
  private lingerTimer: unknown = null;
  private retryTimer: unknown = null;
  private closed = false;
  private readonly timers: Timers;
  /** Failed tries to bind in a row: logged once when they start and once when binding works again. */
  private readonly bindFailures: FailureStreak;

  constructor(private readonly options: OnDemandLiveFeedOptions) {
    this.timers = options.timers ?? backgroundTimers;
    this.bindFailures = new FailureStreak(options.logger, 'binding the on-demand live feed');
  }

  /** Tries to bind that failed since the last success (for tests and metrics). */
  get failedBindTries(): number {
    return this.bindFailures.count;
  }

  /** Whether the feed's queue exists now (for tests and metrics). */
  get bound(): boolean {
    return this.feed !== null;
  }

  listen(types: readonly EventType[], listener: LiveListener, onGap?: GapListener, route?: LiveRoute): () => void {
    const known = new Set(this.options.types);
    const unbound = types.filter((t) => !known.has(t));
    if (unbound.length > 0) throw new Error(`The on-demand live feed does not carry ${unbound.join(', ')}.`);
    if (this.closed) throw new Error('The on-demand live feed is closed.');
    this.cancelLinger();
    const registration: Registration = {
      types,
      listener,
      onGap,
      route,
      // Read now, so that an event committed after this call is caught up once the feed is bound.
      headAtListen: this.feed ? null : this.options.headPosition().catch(() => 0),
      stop: null,
    };
    this.registrations.add(registration);
    if (this.feed) registration.stop = this.feed.listen(types, listener, onGap, route);
    else this.start();
    return () => {
      if (!this.registrations.delete(registration)) return;
      registration.stop?.();
      if (this.registrations.size === 0) this.linger();
    };
  }

  private start(): void {
    if (this.starting || this.closed) return;
    this.starting = true;
    void (async () => {
      await this.stopping;
      const feed = await LiveEventFeed.start(this.options.bus, {
        types: this.options.types,
        queuePrefix: this.options.queuePrefix,
        logger: this.options.logger,
        headPosition: this.options.headPosition,
      });
      this.starting = false;
      this.bindFailures.succeeded({ listeners: this.registrations.size });
      if (this.closed || this.registrations.size === 0) {
        await feed.close();
        return;
      }
      this.feed = feed;
      for (const registration of this.registrations) {
        if (registration.stop) continue;
        registration.stop = feed.listen(registration.types, registration.listener, registration.onGap, registration.route);
        const head = registration.headAtListen;
        if (head && registration.onGap) void head.then((after) => this.registrations.has(registration) && registration.onGap?.(after));
      }
    })().catch((error: unknown) => {
      this.starting = false;
      if (this.closed || this.registrations.size === 0) return;
      // The listeners wait (what is stored meanwhile reaches them from the store once the feed is
      // bound); the tries back off, so a long broker outage is not a bind attempt every second.
      const delayMs = Math.min((this.options.retryMs ?? 1000) * 2 ** this.bindFailures.count, this.options.maxRetryMs ?? 30_000);
      this.bindFailures.failed(error, { listeners: this.registrations.size, retryInMs: delayMs });
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = null;
        this.start();
      }, delayMs);
    });
  }

  private linger(): void {
    this.cancelLinger();
    this.lingerTimer = this.timers.setTimeout(() => {
      this.lingerTimer = null;
      if (this.registrations.size === 0) this.unbind();
    }, this.options.lingerMs ?? ON_DEMAND_LINGER_MS);
  }

  private cancelLinger(): void {
    if (this.lingerTimer !== null) this.timers.clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  private unbind(): void {
    const feed = this.feed;
    this.feed = null;
    if (!feed) return;
    this.stopping = feed.close().catch((error: unknown) => this.options.logger.warn({ err: error }, 'closing the on-demand live feed failed'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelLinger();
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.registrations.clear();
    this.unbind();
    await this.stopping;
  }
}

/**
 * The live source of a subscription server: listeners within the always-bound types go to the
 * process's feed, the others to the on-demand feed (which carries every type they may ask for).
 */
export function splitLiveSource(always: LiveEventSource | null, alwaysTypes: readonly EventType[], onDemand: OnDemandLiveFeed | null): LiveEventSource {
  const bound = new Set(alwaysTypes);
  return {
    listen(types, listener, onGap, route) {
      if (always && types.every((t) => bound.has(t))) return always.listen(types, listener, onGap, route);
      if (onDemand) return onDemand.listen(types, listener, onGap, route);
      if (always) return always.listen(types, listener, onGap, route);
      throw new Error('No live feed on this server.');
    },
  };
}
