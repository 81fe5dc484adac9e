// One claimed replay, from its start to its end: counts the range, creates the replay topic with
// one queue per target, publishes the range batch by batch (waiting while too many deliveries are
// unsettled), watches every target settle every event, reports throttled progress as replay.*
// events, then deletes the topic and records the stats. ReplayRunner claims replays and runs them.
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { ReplayProgressSnapshot, ReplayStatsSnapshot, ReplayTargetProgress } from '../events/catalog/replay';
import { ack, hasTemporaryTopics, type BatchHandler, type Consumer, type EventBus, type TemporaryTopics } from '../bus/event-bus';
import { runBatchHandler, settle } from '../bus/delivery-policy';
import { clearReplayMarkers } from '../consumers/consumer-records';
import { createIdempotentBatchHandler } from '../consumers/idempotent-consumer';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import type { EventStore, ReadAllOptions } from '../store/event-store';
import type { Clock } from '../../platform/clock';
import { DomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { FailureStreak } from '../../platform/failure-streak';
import { MAX_ERROR_SAMPLES, ProgressThrottle, isFinished, progressOf, replaysCollection, type ReplayDoc, type ReplayErrorSample } from './replay-model';
import { ProjectionRebuild } from './projection-versions';
import type { ReplayTarget } from './replay-targets';

/** What a run needs of its runner. */
export interface ReplayRunContext {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly targets: ReadonlyMap<string, ReplayTarget>;
  readonly queuePrefix: string;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly eventsPerMessage: number;
  readonly progressIntervalMs: number;
  readonly maxInFlight: number;
  readonly prefetch: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly heartbeatIntervalMs: number;
  /** Work to finish in the background before the runner's stop() resolves. */
  track(work: Promise<void>): void;
}

interface TargetRun {
  readonly target: ReplayTarget;
  readonly types: ReadonlySet<string>;
  readonly queue: string;
  /** The routing key of this target's batch messages on the replay topic. */
  readonly routingKey: string;
  total: number;
  processed: number;
  errors: number;
  consumer: Consumer | null;
  rebuild: ProjectionRebuild | null;
}

/** What the run reads from the store: a rebuild the whole history up to now, a replay its time range. */
interface ReadRange {
  readonly read: ReadAllOptions;
  /** The last position taken (infinite for a time range). */
  readonly untilPosition: number;
}

type TopicBus = EventBus & TemporaryTopics;
type LifecycleEvent = Parameters<EventStore['append']>[1][number];

/** The topic of one replay run. */
export const replayTopicOf = (replayId: string): string => `replay.${replayId}`;

/** The temporary queue of one target of a replay run. */
export const replayQueueOf = (queuePrefix: string, replayId: string, target: string): string => `${queuePrefix}replay.${replayId}.${target}`;

/** The stored event as the replay publishes it: replay flag, run id and batch, original position kept. */
export function asReplayed(event: AnyEventEnvelope, replayId: string, batch?: string): AnyEventEnvelope {
  const replayInfo = batch === undefined ? { replayId, originalPosition: event.position } : { replayId, originalPosition: event.position, batch };
  return { ...event, metadata: { ...event.metadata, replay: true, replayInfo } };
}

/** Append a replay.* event to the replay's own stream; its global position. */
export async function appendReplayLifecycle(store: EventStore, doc: ReplayDoc, event: LifecycleEvent): Promise<number | null> {
  const result = await store.append(`replay-${doc.id}`, [event], {
    expectedVersion: 'any',
    context: { correlationId: doc.correlationId, causationId: null, actor: { id: 'replay-service', role: 'system' } },
  });
  return result.events[0]?.position ?? null;
}

export class ReplayRun {
  private readonly logger: Logger;
  private readonly replays: DocumentCollection<ReplayDoc>;
  private readonly startedAt: number;
  private readonly topic: string;
  private readonly runs: TargetRun[] = [];
  private readonly samples: ReplayErrorSample[] = [];
  private readonly throttle: ProgressThrottle;
  /** The bus, once known to have temporary topics. */
  private topics: TopicBus | null = null;
  private topicCreated = false;
  private cancelled = false;
  /** Resolves the wait for settling deliveries (or a cancel). */
  private wakeWaiter: (() => void) | null = null;
  /** Distinct events in the range that some target handles. */
  private events = 0;
  private published = 0;
  private lastCancelCheck = 0;
  /** Progress reports, chained so they are stored in order. */
  private reporting: Promise<void> = Promise.resolve();

  constructor(
    private readonly doc: ReplayDoc,
    private readonly ctx: ReplayRunContext,
  ) {
    this.logger = ctx.logger.child({ replayId: doc.id });
    this.replays = replaysCollection(ctx.documents);
    this.startedAt = ctx.clock.now().getTime();
    this.topic = replayTopicOf(doc.id);
    this.throttle = new ProgressThrottle(ctx.progressIntervalMs, () => ctx.clock.now());
  }

  /** Stop the run here (its topic is deleted, its status recorded as cancelled). */
  cancel(): void {
    this.cancelled = true;
    this.poke();
  }

  /** Run to the end (completed, cancelled or failed); never throws. */
  async execute(): Promise<void> {
    const heartbeat = this.startHeartbeat();
    try {
      const bus = this.temporaryTopicsBus();
      this.planTargets();
      const range = await this.rangeToRead();
      await this.count(range);
      const counted = this.progressNow();
      await this.replays.update(this.doc.id, (current) => (current ? { ...current, events: this.events, progress: counted } : null));
      await this.openTopic(bus);
      await this.announceStart(counted);
      const lastPosition = await this.publish(bus, range);
      const total = this.runs.reduce((n, r) => n + r.total, 0);
      await this.waitFor(() => this.settled() >= total);
      // A cancel that arrived while the last deliveries settled still counts: the admin asked first.
      if ((await this.replays.get(this.doc.id))?.cancelRequested) this.cancelled = true;
      await this.reporting;
      await this.closeTopic(bus);
      if (this.cancelled) {
        for (const run of this.runs) await run.rebuild?.abort();
        await this.finish('cancelled', null);
        return;
      }
      await this.complete(lastPosition, range.untilPosition);
    } catch (error) {
      await this.fail(error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private poke(): void {
    const wake = this.wakeWaiter;
    this.wakeWaiter = null;
    wake?.();
  }

  /**
   * The heartbeat tells other workers this run is alive; finding it failed or taken over (this
   * process was thought dead) cancels the run here.
   */
  private startHeartbeat(): NodeJS.Timeout {
    const beats = new FailureStreak(this.logger, 'replay heartbeat', this.ctx.clock);
    const heartbeat = setInterval(() => {
      void this.beat(beats).then((alive) => {
        if (!alive && !this.cancelled) {
          this.logger.warn('replay taken over or failed elsewhere while running here: stopping');
          this.cancel();
        }
      });
    }, this.ctx.heartbeatIntervalMs);
    heartbeat.unref();
    return heartbeat;
  }

  /** Renew the heartbeat; false when the replay is no longer running under this claim. */
  private async beat(beats: FailureStreak): Promise<boolean> {
    const { doc } = this;
    try {
      const at = this.ctx.clock.now().toISOString();
      const stored = await this.replays.update(doc.id, (current) =>
        current && current.status === 'running' && current.claimedBy === doc.claimedBy ? { ...current, heartbeatAt: at } : null,
      );
      beats.succeeded();
      return !stored || (stored.claimedBy === doc.claimedBy && stored.status !== 'failed');
    } catch (error) {
      beats.failed(error);
      return true;
    }
  }

  private temporaryTopicsBus(): TopicBus {
    const { bus } = this.ctx;
    if (!hasTemporaryTopics(bus)) throw new DomainError('UNAVAILABLE', 'This event bus has no temporary topics: replays need one.');
    this.topics = bus;
    return bus;
  }

  /** One TargetRun per requested target, handling the requested types of those it handles. */
  private planTargets(): void {
    const { doc, ctx } = this;
    for (const name of doc.targets) {
      const target = ctx.targets.get(name);
      if (!target) throw new DomainError('NOT_FOUND', `Replay target ${name} is not run by this worker.`, { target: name });
      const types = doc.types ? target.handles.filter((t) => doc.types?.includes(t)) : target.handles;
      this.runs.push({
        target,
        types: new Set(types),
        queue: replayQueueOf(ctx.queuePrefix, doc.id, name),
        routingKey: `batch.${name}`,
        total: 0,
        processed: 0,
        errors: 0,
        consumer: null,
        rebuild: target.kind === 'projection' ? new ProjectionRebuild(target.projection, ctx.documents, ctx.store, ctx.clock) : null,
      });
    }
  }

  private async rangeToRead(): Promise<ReadRange> {
    const { doc, ctx } = this;
    const types = [...new Set(this.runs.flatMap((r) => [...r.types]))] as EventType[];
    // A rebuild reads the whole history up to now (by position), a replay exactly its time range.
    if (doc.kind === 'rebuild') return { read: { after: 0, types, batchSize: ctx.batchSize }, untilPosition: await ctx.store.headPosition() };
    return { read: { from: doc.from, to: doc.to, types, batchSize: ctx.batchSize }, untilPosition: Number.POSITIVE_INFINITY };
  }

  /** Count first (batch by batch): totals make progress, rate and time left meaningful. */
  private async count({ read, untilPosition }: ReadRange): Promise<void> {
    for await (const batch of this.ctx.store.readAll(read)) {
      for (const event of batch) {
        if (event.position > untilPosition) break;
        this.events++;
        for (const run of this.runs) if (run.types.has(event.type)) run.total++;
      }
      if (this.cancelled) break;
    }
  }

  /** Create the replay topic and a consumer of each target's queue on it. */
  private async openTopic(bus: TopicBus): Promise<void> {
    await bus.createTopic(this.topic);
    this.topicCreated = true;
    for (const run of this.runs) {
      run.consumer = await bus.consumeBatches(
        {
          queue: run.queue,
          bindings: [run.routingKey],
          topic: this.topic,
          prefetch: this.ctx.prefetch,
          // One at a time per target: consumers and projections see the range in store order.
          concurrency: 1,
          maxAttempts: this.ctx.maxAttempts,
          retryDelayMs: this.ctx.retryDelayMs,
        },
        this.counting(run, await this.handlerOf(run)),
      );
    }
  }

  private async announceStart(counted: ReplayProgressSnapshot): Promise<void> {
    const { doc } = this;
    const startedPosition = await this.appendLifecycle({
      type: 'replay.started',
      payload: { replayId: doc.id, kind: doc.kind, from: doc.from, to: doc.to, types: doc.types ? [...doc.types] : null, targets: [...doc.targets], events: this.events, progress: counted },
    });
    this.throttle.due(true);
    await this.replays.update(doc.id, (current) => (current ? { ...current, startedPosition } : null));
  }

  /** Publish the range, batch by batch, waiting while too many deliveries are unsettled; the last position published. */
  private async publish(bus: TopicBus, { read, untilPosition }: ReadRange): Promise<number> {
    this.lastCancelCheck = Date.now();
    let lastPosition = 0;
    for await (const batch of this.ctx.store.readAll(read)) {
      const inRange = batch.filter((e) => e.position <= untilPosition);
      if (inRange.length > 0) {
        await this.waitFor(() => this.published - this.settled() < this.ctx.maxInFlight);
        await this.checkCancel();
        if (this.cancelled) break;
        await this.publishBatch(bus, inRange);
        lastPosition = inRange[inRange.length - 1]?.position ?? lastPosition;
      }
      if (inRange.length < batch.length) break;
    }
    return lastPosition;
  }

  /** One message per target and chunk, all confirmed together (pipelined on one channel). */
  private async publishBatch(bus: TopicBus, events: readonly AnyEventEnvelope[]): Promise<void> {
    const { eventsPerMessage } = this.ctx;
    const sends: Promise<void>[] = [];
    for (const run of this.runs) {
      const mine = events.filter((e) => run.types.has(e.type));
      for (let start = 0; start < mine.length; start += eventsPerMessage) {
        const chunk = mine.slice(start, start + eventsPerMessage);
        const batch = `${chunk[0]?.position ?? 0}-${chunk[chunk.length - 1]?.position ?? 0}`;
        sends.push(bus.publishBatch(chunk.map((e) => asReplayed(e, this.doc.id, batch)), { topic: this.topic, routingKey: run.routingKey }));
        this.published += chunk.length;
      }
    }
    await Promise.all(sends);
  }

  private settled(): number {
    return this.runs.reduce((n, r) => n + r.processed, 0);
  }

  /** Cancel requests of other processes arrive through the document (looked at once per poll interval). */
  private async checkCancel(): Promise<void> {
    if (Date.now() - this.lastCancelCheck < this.ctx.pollIntervalMs) return;
    this.lastCancelCheck = Date.now();
    if ((await this.replays.get(this.doc.id))?.cancelRequested) this.cancelled = true;
  }

  private async waitFor(condition: () => boolean): Promise<void> {
    while (!condition() && !this.cancelled) {
      await new Promise<void>((resolve) => {
        this.wakeWaiter = resolve;
        setTimeout(resolve, this.ctx.pollIntervalMs);
      });
      await this.checkCancel();
    }
  }

  private async closeTopic(bus: TopicBus): Promise<void> {
    for (const run of this.runs) await run.consumer?.close();
    const deletion = await bus.deleteTopic(this.topic);
    this.topicCreated = false;
    this.logger.info({ topic: this.topic, queues: deletion.queues, deadLettersKept: deletion.deadLettersKept }, 'replay topic deleted');
  }

  /** Swap rebuilt projections in, record the stats, then forget this run's dedup markers. */
  private async complete(lastPosition: number, untilPosition: number): Promise<void> {
    for (const run of this.runs) {
      if (!run.rebuild) continue;
      run.rebuild.replayedUpTo(Math.max(lastPosition, untilPosition === Number.POSITIVE_INFINITY ? 0 : untilPosition));
      const swapped = await run.rebuild.finish();
      this.logger.info({ projection: run.target.name, ...swapped }, 'projection rebuilt and swapped in');
    }
    await this.finish('completed', null);
    // Markers of this run only served dedup within it: forget them in the background (after the
    // stats are out; the next replay need not wait), finished before the runner's stop() resolves.
    const { documents } = this.ctx;
    this.ctx.track(
      (async () => {
        for (const run of this.runs) {
          if (run.target.kind === 'consumer') await clearReplayMarkers(documents, run.target.definition.name, this.doc.id).catch(() => 0);
        }
      })(),
    );
  }

  private async fail(error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.error({ err: error }, 'replay failed');
    for (const run of this.runs) await run.consumer?.close().catch(() => undefined);
    if (this.topicCreated && this.topics) await this.topics.deleteTopic(this.topic).catch(() => undefined);
    for (const run of this.runs) await run.rebuild?.abort().catch(() => undefined);
    await this.finish('failed', reason).catch((e: unknown) => this.logger.error({ err: e }, 'recording a failed replay failed'));
  }

  private async finish(status: 'completed' | 'cancelled' | 'failed', reason: string | null): Promise<void> {
    const stats = this.statsNow();
    const { samples } = this;
    const id = this.doc.id;
    const at = this.ctx.clock.now().toISOString();
    await this.replays.update(id, (current) =>
      current ? { ...current, status, finishedAt: at, progress: { ...stats }, stats, error: reason, errorSamples: [...samples] } : null,
    );
    if (status === 'completed') await this.appendLifecycle({ type: 'replay.completed', payload: { replayId: id, stats } });
    else if (status === 'cancelled') await this.appendLifecycle({ type: 'replay.cancelled', payload: { replayId: id, stats } });
    else await this.appendLifecycle({ type: 'replay.failed', payload: { replayId: id, reason: reason ?? 'unknown', stats } });
  }

  private appendLifecycle(event: LifecycleEvent): Promise<number | null> {
    return appendReplayLifecycle(this.ctx.store, this.doc, event);
  }

  private targetsProgress(): ReplayTargetProgress[] {
    return this.runs.map((r) => ({
      name: r.target.name,
      kind: r.target.kind,
      total: r.total,
      processed: r.processed,
      errors: r.errors,
      // Dead letters stay readable under the queue's name (peekDeadLetters; on RabbitMQ `<queue>.dlq`).
      deadLetterQueue: r.errors > 0 ? r.queue : null,
    }));
  }

  private progressNow(): ReplayProgressSnapshot {
    return progressOf(this.targetsProgress(), this.ctx.clock.now().getTime() - this.startedAt);
  }

  private statsNow(): ReplayStatsSnapshot {
    return { ...this.progressNow(), events: this.events, durationMs: Math.max(0, this.ctx.clock.now().getTime() - this.startedAt) };
  }

  /** Store and announce progress when the throttle lets it (or always, forced); never blocks a delivery. */
  private report(force = false): void {
    if (!this.throttle.due(force)) return;
    const progress = this.progressNow();
    const id = this.doc.id;
    this.reporting = this.reporting
      .then(async () => {
        await this.replays.update(id, (current) => (current && !isFinished(current.status) ? { ...current, progress, errorSamples: [...this.samples] } : null));
        await this.appendLifecycle({ type: 'replay.progressed', payload: { replayId: id, progress } });
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'replay progress report failed'));
  }

  private async handlerOf(run: TargetRun): Promise<BatchHandler> {
    const { target } = run;
    if (target.kind === 'consumer') return createIdempotentBatchHandler(this.ctx.documents, target.definition, { clock: this.ctx.clock });
    const rebuild = run.rebuild;
    if (!rebuild) throw new Error('a projection target needs its rebuild');
    const apply = target.projection.project(await rebuild.begin());
    // The projection folds the batch itself (monotonic per document); a failure retries the batch's
    // events one by one, which re-applying cannot harm.
    return async (events) => {
      await apply(events);
      return events.map(() => ack);
    };
  }

  /** Count each event once it is settled: acked, or dead-lettered (an error, never dropped). */
  private counting(run: TargetRun, handler: BatchHandler): BatchHandler {
    const { maxAttempts } = this.ctx;
    const { samples } = this;
    return async (events, delivery) => {
      const outcomes = await runBatchHandler(handler, events, delivery);
      let settled = 0;
      outcomes.forEach((outcome, index) => {
        const settlement = settle(outcome, delivery.attempt, maxAttempts);
        if (settlement.action === 'retry') return;
        settled++;
        if (settlement.action === 'dead-letter') {
          run.errors++;
          const event = events[index];
          if (event && samples.length < MAX_ERROR_SAMPLES) samples.push({ target: run.target.name, eventId: event.id, type: event.type, reason: settlement.reason });
        }
      });
      run.processed += settled;
      if (settled > 0) {
        this.report();
        this.poke();
      }
      return outcomes;
    };
  }
}
