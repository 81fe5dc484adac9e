// Follows the event store's global order from a saved position and hands each batch to a handler:
// the engine under the outbox relay and the projections. At least once: the position is saved
// after the handler succeeds, so a crash repeats what was handled since the last save. By default
// the position is written behind, at most every `saveDelayMs` (100 ms) and when the follower stops:
// one write then covers every batch of that time (a save after each batch was one of the most
// frequent writes of the product, and the next read waited for it), and a crash repeats at most
// those 100 ms of batches, which the handlers (idempotent consumers, monotonic projections, the
// relay whose consumers drop what they already processed) take as they take any redelivery.
import { attr, contextFrom, inSpan, linksFrom, ROOT_CONTEXT, tracingEnabled } from '../../platform/tracing';
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { EventStore } from './event-store';
import type { Logger } from '../../platform/logger';
import { FailureStreak } from '../../platform/failure-streak';
import { WakeableDelay } from '../../platform/wakeable-delay';

/** Where a follower keeps its position (one per follower name). */
export interface PositionCheckpoint {
  load(): Promise<number>;
  save(position: number): Promise<void>;
}

export interface StoreFollowerOptions {
  readonly batchSize?: number;
  /** Only these types reach the handler (the position still advances past the others). */
  readonly types?: readonly EventType[];
  /** How often to look for new events when nothing woke the follower (other processes' appends). */
  readonly pollIntervalMs?: number;
  /** First delay after a failed batch; doubles up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * Batches handed to the handler before the first one finished (default 1), those of later reads
   * (after a wake) included. Only for handlers that keep order themselves across overlapping calls,
   * like a publish on one AMQP channel; the position still advances strictly in order, batch by
   * batch, as each one completes.
   */
  readonly pipeline?: number;
  /**
   * With a pipeline, events in the batches in flight after which the follower waits for the oldest
   * (default: no bound but the batches'). Small batches come one per wake under a steady load, large
   * ones when catching up: this bounds what is held unconfirmed in the second case while the first
   * may keep many small batches going.
   */
  readonly pipelineEvents?: number;
  /**
   * How long a handled position may wait before it is saved (default 100). 0: saved after every
   * batch, before the next read, and a failed save fails the batch.
   */
  readonly saveDelayMs?: number;
}

export interface FollowerStatus {
  readonly position: number;
  readonly handled: number;
  readonly failures: number;
  readonly lastError: string | null;
  readonly running: boolean;
}

export type BatchHandler = (batch: readonly AnyEventEnvelope[]) => Promise<void>;

/**
 * Thrown by a handler that changed what its batches hold (the outbox relay parked an event): the
 * follower reads again from its position at once, without counting a failure or backing off.
 */
export class ReadAgain extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadAgain';
  }
}

export class StoreFollower {
  private position = 0;
  private handled = 0;
  private failures = 0;
  private lastError: string | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly delay = new WakeableDelay();
  /** Failed batches (the store down): logged when they start failing and when they work again. */
  private streak: FailureStreak | null = null;
  private pendingWake = false;
  private readonly listeners = new Set<(status: FollowerStatus) => void>();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly saveDelayMs: number;
  /** The position last written to the checkpoint. */
  private saved = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  /** Saves run one after the other. */
  private saveChain: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly store: EventStore,
    private readonly checkpoint: PositionCheckpoint,
    private readonly handle: BatchHandler,
    private readonly logger: Logger,
    private readonly options: StoreFollowerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.saveDelayMs = options.saveDelayMs ?? 100;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.position = await this.checkpoint.load();
    this.saved = this.position;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Say there is something new (after a local append): cheap, safe to call any time. Given what was
   * appended, a follower of some types stays asleep when none of it is of them (appends of other
   * processes are found by the poll, as ever).
   */
  wake(appended?: readonly { readonly type: string }[]): void {
    const types = this.options.types;
    if (appended && types && !appended.some((e) => types.includes(e.type as EventType))) return;
    this.pendingWake = true;
    this.delay.wake();
  }

  status(): FollowerStatus {
    return {
      position: this.position,
      handled: this.handled,
      failures: this.failures,
      lastError: this.lastError,
      running: this.running,
    };
  }

  /** Called after every handled batch and every failure; returns an unsubscribe function. */
  onProgress(listener: (status: FollowerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once everything up to the store's head at the time of the call has been handled. */
  async caughtUp(): Promise<void> {
    const head = await this.store.headPosition();
    if (this.position >= head) return;
    await new Promise<void>((resolve) => {
      const off = this.onProgress((s) => {
        if (s.position >= head) {
          off();
          resolve();
        }
      });
      this.wake();
    });
  }

  /** Stop after the batch in hand, and save the position reached. */
  async stop(): Promise<void> {
    this.running = false;
    this.delay.wake();
    await this.loop;
    this.loop = null;
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await this.saveNow().catch((error: unknown) => {
      this.logger.warn({ err: error, follower: this.name, position: this.position }, 'could not save the position on stop; the batches since the last save will be handled again');
    });
  }

  /** Move the handled position: saved now (saveDelayMs 0, failing the batch if it fails) or soon. */
  private async advance(position: number): Promise<void> {
    if (this.saveDelayMs === 0) {
      await this.checkpoint.save(position);
      this.saved = position;
      this.position = position;
      return;
    }
    this.position = position;
    if (this.saveTimer !== null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saveNow().catch((error: unknown) => {
        this.lastError = (error as Error).message;
        this.logger.warn({ err: error, follower: this.name, position: this.position }, 'could not save the position; will try again');
        // A stopped follower made its last try in stop().
        if (this.running) void this.advance(this.position);
      });
    }, this.saveDelayMs);
    this.saveTimer.unref();
  }

  /** Write the handled position if it moved since the last save. */
  private saveNow(): Promise<void> {
    const run = this.saveChain.then(async () => {
      const position = this.position;
      if (position <= this.saved) return;
      await this.checkpoint.save(position);
      this.saved = Math.max(this.saved, position);
    });
    this.saveChain = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<void> {
    let backoff = this.initialBackoffMs;
    while (this.running) {
      this.pendingWake = false;
      let progressed = false;
      try {
        progressed = await this.handleAvailable();
        backoff = this.initialBackoffMs;
        this.streak?.succeeded({ follower: this.name, position: this.position });
      } catch (error) {
        if (error instanceof ReadAgain) {
          this.logger.info({ follower: this.name, position: this.position, reason: error.message }, 'reading again from the position');
          continue;
        }
        this.failures++;
        this.lastError = (error as Error).message;
        this.streak ??= new FailureStreak(this.logger, `follower ${this.name}`);
        this.streak.failed(error, { follower: this.name, position: this.position, retryInMs: backoff });
        this.emit();
        await this.delay.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
        continue;
      }
      if (!progressed && !this.pendingWake) await this.delay.sleep(this.pollIntervalMs);
    }
  }

  /**
   * Handle every batch available now; true when the position moved. With a pipeline, events
   * appended while batches are in flight (a wake) are read and handed on at once, behind them,
   * instead of after they finish: the outbox relay publishes what was just appended without waiting
   * for the confirms of what it published before (a quorum queue's confirm takes 5-25 ms).
   */
  private async handleAvailable(): Promise<boolean> {
    let progressed = false;
    const types = this.options.types ?? null;
    const pipeline = Math.max(1, this.options.pipeline ?? 1);
    const pipelineEvents = Math.max(1, this.options.pipelineEvents ?? Number.POSITIVE_INFINITY);
    const inFlight: { done: Promise<void>; last: number; count: number }[] = [];
    let eventsInFlight = 0;
    // Set the moment a batch in flight fails: nothing more is handed on until the failed batch has
    // been handed on again (after those in flight settle, from the position). A batch handed on
    // meanwhile could overtake it: the relay's sends made while its connection is down wait for the
    // reconnect and go out before the failed batch is published again, so a queue would get a later
    // event before an earlier one, and a live feed, whose subscribers only move forward, lose it.
    let failed = false;
    const full = () => inFlight.length >= pipeline || eventsInFlight >= pipelineEvents;
    const settleOldest = async () => {
      const oldest = inFlight.shift();
      if (!oldest) return;
      eventsInFlight -= oldest.count;
      try {
        await oldest.done;
      } catch (error) {
        // Later batches may have gone out too; they are redone from the last saved position.
        await Promise.allSettled(inFlight.splice(0).map((b) => b.done));
        eventsInFlight = 0;
        throw error;
      }
      await this.advance(oldest.last);
      this.handled += oldest.count;
      this.lastError = null;
      progressed = true;
      this.emit();
    };
    /** Where the next read starts: past the batches handed on (in flight or done). */
    let dispatched = this.position;
    let read = true;
    for (;;) {
      let complete = this.running && !failed;
      if (read && complete) {
        this.pendingWake = false;
        // A follower of some types reads only those (the store filters), up to the head it takes
        // now, then moves to that head: the other events in between are passed without being read.
        const head = types ? await this.store.headPosition() : undefined;
        if (head === undefined || head > dispatched) {
          const options = types ? { after: dispatched, until: head, types: [...types], batchSize: this.batchSize } : { after: dispatched, batchSize: this.batchSize };
          for await (const batch of this.store.readAll(options)) {
            if (!this.running || failed) {
              complete = false;
              break;
            }
            const last = batch[batch.length - 1];
            if (!last) continue;
            const done = this.handleTraced(batch);
            // Taken up now: a later batch may fail while an earlier one is still awaited, and a
            // rejection nobody handles ends the process. Its error still reaches settleOldest.
            done.catch(() => {
              failed = true;
            });
            inFlight.push({ done, last: last.position, count: batch.length });
            eventsInFlight += batch.length;
            dispatched = last.position;
            if (full()) await settleOldest();
          }
          if (complete && head !== undefined && head > dispatched) {
            // Nothing more of its types up to the head: the position moves there, in its turn.
            inFlight.push({ done: Promise.resolve(), last: head, count: 0 });
            dispatched = head;
          }
        }
      }
      if (!complete || failed || !this.running || pipeline === 1 || inFlight.length === 0) break;
      // Batches in flight: settle the oldest when it is done, or read what a wake announced.
      const oldest = inFlight[0] as (typeof inFlight)[number];
      const woken = this.pendingWake || (await Promise.race([oldest.done.then(() => false, () => false), this.delay.sleep(this.pollIntervalMs).then(() => true)]));
      this.delay.wake();
      if (woken && !failed && !full()) {
        read = true;
        continue;
      }
      await settleOldest();
      read = this.pendingWake;
    }
    while (inFlight.length > 0) await settleOldest();
    return progressed;
  }

  /**
   * The handler, in a span of its own while tracing is on: a child of the event's trace for a batch
   * of one, else a span linked to the trace of each event (a batch mixes many requests).
   */
  private handleTraced(batch: readonly AnyEventEnvelope[]): Promise<void> {
    if (!tracingEnabled()) return this.handle(batch);
    const [first] = batch;
    const single = batch.length === 1 && first;
    return inSpan(
      `follow ${this.name}`,
      {
        ...(single ? { parent: contextFrom(first.metadata) } : { parent: ROOT_CONTEXT, links: linksFrom(batch.map((event) => event.metadata)) }),
        attributes: {
          'membership.follower': this.name,
          [attr.eventCount]: batch.length,
          'membership.event.position.first': first?.position ?? 0,
          ...(single ? { [attr.eventType]: first.type, [attr.correlationId]: first.correlationId } : {}),
        },
      },
      () => this.handle(batch),
    );
  }

  private emit(): void {
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}
