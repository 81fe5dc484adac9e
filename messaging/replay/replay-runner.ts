// The replay service's worker side (the seed's ReplayService): claims a requested replay from the
// `replays` documents, counts the range, creates the replay topic with one queue per target,
// publishes the range batch by batch with replay headers (one message per batch and target, up to
// `eventsPerMessage` events), watches every target settle every event (errors counted and
// dead-lettered one by one), reports throttled progress as replay.* events, then deletes the topic
// and records the stats. Memory is bounded: the store is read in batches and publishing waits while
// too many deliveries are unsettled.
import { randomUUID } from 'node:crypto';
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { ReplayStatsSnapshot, ReplayTargetProgress } from '../events/catalog/replay';
import { ack, hasTemporaryTopics, type BatchHandler, type Consumer, type EventBus, type TemporaryTopics } from '../bus/event-bus';
import { runBatchHandler, settle } from '../bus/delivery-policy';
import { clearReplayMarkers, createIdempotentBatchHandler } from '../consumers/idempotent-consumer';
import type { DocumentStore } from '../state/document-store';
import type { EventStore, ReadAllOptions } from '../store/event-store';
import type { Clock } from '../../platform/clock';
import { DomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import {
  MAX_ERROR_SAMPLES,
  ProgressThrottle,
  isFinished,
  progressOf,
  replayTargetsCollection,
  replaysCollection,
  type ReplayDoc,
  type ReplayErrorSample,
} from './replay-model';
import { ProjectionRebuild } from './projection-versions';
import type { ReplayTarget } from './replay-targets';
import { WakeableDelay } from '../../platform/wakeable-delay';
import { FailureStreak } from '../../platform/failure-streak';

export interface ReplayRunnerDeps {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface ReplayRunnerOptions {
  /** Prefix of the temporary queues (the deployment's QUEUE_PREFIX). */
  readonly queuePrefix: string;
  /** How often to look for requested replays and cancel requests (other processes). Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Events read from the store per batch. Default 1000. */
  readonly batchSize?: number;
  /** Events per published message (one message per target and chunk of a read batch). Default 200. */
  readonly eventsPerMessage?: number;
  /** Minimum time between progress reports, by the injected clock. Default 250 ms. */
  readonly progressIntervalMs?: number;
  /** Deliveries published but not yet settled before publishing waits. Default 20,000. */
  readonly maxInFlight?: number;
  /** Per temporary queue. Defaults: prefetch 20 messages (batches), 3 attempts, 100 ms between them. */
  readonly prefetch?: number;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
  /** How often a running replay's heartbeat is renewed. Default 5 s. */
  readonly heartbeatIntervalMs?: number;
  /**
   * A running replay whose heartbeat is older than this (by the injected clock) was left by a
   * worker that died: another worker fails it, says why and removes its topic. Default 30 s.
   */
  readonly staleAfterMs?: number;
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

/** The topic of one replay run. */
export const replayTopicOf = (replayId: string): string => `replay.${replayId}`;

export class ReplayRunner {
  private readonly targets: ReadonlyMap<string, ReplayTarget>;
  private readonly workerId = randomUUID();
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly delay = new WakeableDelay();
  private current: { id: string; cancel: () => void } | null = null;
  private readonly cleanups = new Set<Promise<void>>();
  private readonly options: Required<ReplayRunnerOptions>;
  /** Claiming failing (the store down): logged when it starts failing and when it works again. */
  private readonly claims: FailureStreak;

  constructor(
    private readonly deps: ReplayRunnerDeps,
    targets: readonly ReplayTarget[],
    options: ReplayRunnerOptions,
  ) {
    this.claims = new FailureStreak(deps.logger, 'replay runner: claiming a replay', deps.clock);
    this.targets = new Map(targets.map((t) => [t.name, t]));
    this.options = {
      pollIntervalMs: 100,
      batchSize: 1000,
      eventsPerMessage: 200,
      progressIntervalMs: 250,
      maxInFlight: 20_000,
      prefetch: 20,
      maxAttempts: 3,
      retryDelayMs: 100,
      heartbeatIntervalMs: 5000,
      staleAfterMs: 30_000,
      ...options,
    };
  }

  /** Announce the targets (the API validates requests against them) and start looking for work. */
  async start(): Promise<void> {
    if (this.running) return;
    const registry = replayTargetsCollection(this.deps.documents);
    const at = this.deps.clock.now().toISOString();
    for (const target of this.targets.values()) {
      await registry.put({ id: target.name, kind: target.kind, handles: [...target.handles], registeredAt: at });
    }
    this.running = true;
    this.loop = this.run();
  }

  /** Something was requested or cancelled in this process: look now. */
  wake(): void {
    this.delay.wake();
  }

  /** Stop looking; a replay in progress is cancelled (its topic deleted) before this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.current?.cancel();
    this.delay.wake();
    await this.loop;
    this.loop = null;
    await Promise.allSettled([...this.cleanups]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.failStale();
        const claimed = await this.claimNext();
        this.claims.succeeded();
        if (claimed) {
          await this.execute(claimed);
          continue;
        }
      } catch (error) {
        this.claims.failed(error);
      }
      await this.delay.sleep(this.options.pollIntervalMs);
    }
  }

  private async claimNext(): Promise<ReplayDoc | null> {
    const replays = replaysCollection(this.deps.documents);
    const pending = await replays.find({ where: { status: 'pending' }, orderBy: { field: 'requestedAt' }, limit: 10 });
    for (const candidate of pending) {
      const token = `${this.workerId}:${randomUUID()}`;
      const at = this.deps.clock.now().toISOString();
      const stored = await replays.update(candidate.id, (current) =>
        current && current.status === 'pending'
          ? { ...current, status: current.cancelRequested ? 'cancelled' : 'running', claimedBy: token, startedAt: at, heartbeatAt: at, ...(current.cancelRequested ? { finishedAt: at } : {}) }
          : null,
      );
      if (stored?.claimedBy === token && stored.status === 'running') return stored;
    }
    return null;
  }

  /** Run one claimed replay to its end (completed, cancelled or failed); never throws. */
  async execute(doc: ReplayDoc): Promise<void> {
    const { store, bus, documents, clock } = this.deps;
    const logger = this.deps.logger.child({ replayId: doc.id });
    const replays = replaysCollection(documents);
    const startedAt = clock.now().getTime();
    const topic = replayTopicOf(doc.id);
    const runs: TargetRun[] = [];
    const samples: ReplayErrorSample[] = [];
    let cancelled = false;
    let wakeWaiter: (() => void) | null = null;
    const poke = () => {
      const wake = wakeWaiter;
      wakeWaiter = null;
      wake?.();
    };
    this.current = {
      id: doc.id,
      cancel: () => {
        cancelled = true;
        poke();
      },
    };
    const throttle = new ProgressThrottle(this.options.progressIntervalMs, () => clock.now());
    // The heartbeat tells other workers this run is alive; finding it failed or taken over (this
    // process was thought dead) cancels the run here.
    const beats = new FailureStreak(logger, 'replay heartbeat', clock);
    const heartbeat = setInterval(() => {
      void this.beat(doc, beats).then((alive) => {
        if (!alive && !cancelled) {
          logger.warn('replay taken over or failed elsewhere while running here: stopping');
          cancelled = true;
          poke();
        }
      });
    }, this.options.heartbeatIntervalMs);
    heartbeat.unref();
    let events = 0;
    let topicCreated = false;
    const targetsProgress = (): ReplayTargetProgress[] =>
      runs.map((r) => ({
        name: r.target.name,
        kind: r.target.kind,
        total: r.total,
        processed: r.processed,
        errors: r.errors,
        // Dead letters stay readable under the queue's name (peekDeadLetters; on RabbitMQ `<queue>.dlq`).
        deadLetterQueue: r.errors > 0 ? r.queue : null,
      }));
    const progressNow = () => progressOf(targetsProgress(), clock.now().getTime() - startedAt);
    const statsNow = (): ReplayStatsSnapshot => ({ ...progressNow(), events, durationMs: Math.max(0, clock.now().getTime() - startedAt) });
    const appendLifecycle = async (event: Parameters<EventStore['append']>[1][number]) => {
      const result = await store.append(`replay-${doc.id}`, [event], {
        expectedVersion: 'any',
        context: { correlationId: doc.correlationId, causationId: null, actor: { id: 'replay-service', role: 'system' } },
      });
      return result.events[0]?.position ?? null;
    };
    let reporting: Promise<void> = Promise.resolve();
    const report = (force = false) => {
      if (!throttle.due(force)) return;
      const progress = progressNow();
      // Reports are chained so they are stored in order; progress never blocks a delivery.
      reporting = reporting
        .then(async () => {
          await replays.update(doc.id, (current) => (current && !isFinished(current.status) ? { ...current, progress, errorSamples: [...samples] } : null));
          await appendLifecycle({ type: 'replay.progressed', payload: { replayId: doc.id, progress } });
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'replay progress report failed'));
    };

    try {
      if (!hasTemporaryTopics(bus)) throw new DomainError('UNAVAILABLE', 'This event bus has no temporary topics: replays need one.');
      for (const name of doc.targets) {
        const target = this.targets.get(name);
        if (!target) throw new DomainError('NOT_FOUND', `Replay target ${name} is not run by this worker.`, { target: name });
        const types = doc.types ? target.handles.filter((t) => doc.types?.includes(t)) : target.handles;
        runs.push({
          target,
          types: new Set(types),
          queue: this.queueOf(doc.id, name),
          routingKey: `batch.${name}`,
          total: 0,
          processed: 0,
          errors: 0,
          consumer: null,
          rebuild: target.kind === 'projection' ? new ProjectionRebuild(target.projection, documents, store, clock) : null,
        });
      }
      const readTypes = [...new Set(runs.flatMap((r) => [...r.types]))] as EventType[];
      // A rebuild reads the whole history up to now (by position), a replay exactly its time range.
      const untilPosition = doc.kind === 'rebuild' ? await store.headPosition() : Number.POSITIVE_INFINITY;
      const read: ReadAllOptions =
        doc.kind === 'rebuild'
          ? { after: 0, types: readTypes, batchSize: this.options.batchSize }
          : { from: doc.from, to: doc.to, types: readTypes, batchSize: this.options.batchSize };

      // Count first (batch by batch): totals make progress, rate and time left meaningful.
      for await (const batch of store.readAll(read)) {
        for (const event of batch) {
          if (event.position > untilPosition) break;
          events++;
          for (const run of runs) if (run.types.has(event.type)) run.total++;
        }
        if (cancelled) break;
      }
      const stats0 = progressNow();
      await replays.update(doc.id, (current) => (current ? { ...current, events, progress: stats0 } : null));

      await (bus as EventBus & TemporaryTopics).createTopic(topic);
      topicCreated = true;
      for (const run of runs) {
        run.consumer = await (bus as EventBus & TemporaryTopics).consumeBatches(
          {
            queue: run.queue,
            bindings: [run.routingKey],
            topic,
            prefetch: this.options.prefetch,
            // One at a time per target: consumers and projections see the range in store order.
            concurrency: 1,
            maxAttempts: this.options.maxAttempts,
            retryDelayMs: this.options.retryDelayMs,
          },
          this.counting(run, await this.handlerOf(run), samples, () => {
            report();
            poke();
          }),
        );
      }
      const startedPosition = await appendLifecycle({
        type: 'replay.started',
        payload: { replayId: doc.id, kind: doc.kind, from: doc.from, to: doc.to, types: doc.types ? [...doc.types] : null, targets: [...doc.targets], events, progress: stats0 },
      });
      throttle.due(true);
      await replays.update(doc.id, (current) => (current ? { ...current, startedPosition } : null));

      const settled = () => runs.reduce((n, r) => n + r.processed, 0);
      const total = runs.reduce((n, r) => n + r.total, 0);
      let published = 0;
      let lastCancelCheck = Date.now();
      const checkCancel = async () => {
        // Cancel requests of other processes arrive through the document.
        if (Date.now() - lastCancelCheck < this.options.pollIntervalMs) return;
        lastCancelCheck = Date.now();
        if ((await replays.get(doc.id))?.cancelRequested) cancelled = true;
      };
      const waitFor = async (condition: () => boolean) => {
        while (!condition() && !cancelled) {
          await new Promise<void>((resolve) => {
            wakeWaiter = resolve;
            setTimeout(resolve, this.options.pollIntervalMs);
          });
          await checkCancel();
        }
      };

      let lastPosition = 0;
      outer: for await (const batch of store.readAll(read)) {
        const inRange = batch.filter((e) => e.position <= untilPosition);
        if (inRange.length > 0) {
          await waitFor(() => published - settled() < this.options.maxInFlight);
          await checkCancel();
          if (cancelled) break;
          // One message per target and chunk, all confirmed together (pipelined on one channel).
          const sends: Promise<void>[] = [];
          for (const run of runs) {
            const mine = inRange.filter((e) => run.types.has(e.type));
            for (let start = 0; start < mine.length; start += this.options.eventsPerMessage) {
              const chunk = mine.slice(start, start + this.options.eventsPerMessage);
              const batch = `${chunk[0]?.position ?? 0}-${chunk[chunk.length - 1]?.position ?? 0}`;
              sends.push(
                (bus as EventBus & TemporaryTopics).publishBatch(
                  chunk.map((e) => asReplayed(e, doc.id, batch)),
                  { topic, routingKey: run.routingKey },
                ),
              );
              published += chunk.length;
            }
          }
          await Promise.all(sends);
          lastPosition = inRange[inRange.length - 1]?.position ?? lastPosition;
        }
        if (inRange.length < batch.length) break outer;
      }
      await waitFor(() => settled() >= total);
      // A cancel that arrived while the last deliveries settled still counts: the admin asked first.
      if ((await replays.get(doc.id))?.cancelRequested) cancelled = true;
      await reporting;

      for (const run of runs) await run.consumer?.close();
      const deletion = await (bus as EventBus & TemporaryTopics).deleteTopic(topic);
      topicCreated = false;
      logger.info({ topic, queues: deletion.queues, deadLettersKept: deletion.deadLettersKept }, 'replay topic deleted');

      if (cancelled) {
        for (const run of runs) await run.rebuild?.abort();
        await this.finish(doc.id, 'cancelled', statsNow(), samples, null, appendLifecycle);
        return;
      }
      for (const run of runs) {
        if (!run.rebuild) continue;
        run.rebuild.replayedUpTo(Math.max(lastPosition, untilPosition === Number.POSITIVE_INFINITY ? 0 : untilPosition));
        const swapped = await run.rebuild.finish();
        logger.info({ projection: run.target.name, ...swapped }, 'projection rebuilt and swapped in');
      }
      await this.finish(doc.id, 'completed', statsNow(), samples, null, appendLifecycle);
      // Markers of this run only served dedup within it: forget them in the background (after the
      // stats are out; the next replay need not wait), finished before stop() resolves.
      const cleanup = (async () => {
        for (const run of runs) {
          if (run.target.kind === 'consumer') await clearReplayMarkers(documents, run.target.definition.name, doc.id).catch(() => 0);
        }
      })();
      this.cleanups.add(cleanup);
      void cleanup.finally(() => this.cleanups.delete(cleanup));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, 'replay failed');
      for (const run of runs) await run.consumer?.close().catch(() => undefined);
      if (topicCreated && hasTemporaryTopics(bus)) await bus.deleteTopic(topic).catch(() => undefined);
      for (const run of runs) await run.rebuild?.abort().catch(() => undefined);
      await this.finish(doc.id, 'failed', statsNow(), samples, reason, appendLifecycle).catch((e: unknown) =>
        logger.error({ err: e }, 'recording a failed replay failed'),
      );
    } finally {
      clearInterval(heartbeat);
      this.current = null;
    }
  }

  /** Renew a running replay's heartbeat; false when it is no longer running under this claim. */
  private async beat(doc: ReplayDoc, beats: FailureStreak): Promise<boolean> {
    try {
      const at = this.deps.clock.now().toISOString();
      const stored = await replaysCollection(this.deps.documents).update(doc.id, (current) =>
        current && current.status === 'running' && current.claimedBy === doc.claimedBy ? { ...current, heartbeatAt: at } : null,
      );
      beats.succeeded();
      return !stored || (stored.claimedBy === doc.claimedBy && stored.status !== 'failed');
    } catch (error) {
      beats.failed(error);
      return true;
    }
  }

  /**
   * Fail the running replays whose worker stopped renewing their heartbeat: their status says so
   * (with the progress they reached), subscribers get replay.failed, and their topic is removed.
   */
  private async failStale(): Promise<void> {
    const { documents, clock, bus } = this.deps;
    const replays = replaysCollection(documents);
    const now = clock.now();
    for (const doc of await replays.find({ where: { status: 'running' }, limit: 50 })) {
      if (this.current?.id === doc.id) continue;
      const lastSign = Date.parse(doc.heartbeatAt ?? doc.startedAt ?? doc.requestedAt);
      if (now.getTime() - lastSign < this.options.staleAfterMs) continue;
      const at = now.toISOString();
      const reason = `The worker running this replay stopped (no heartbeat since ${new Date(lastSign).toISOString()}); nothing more was delivered. Start it again.`;
      const stats: ReplayStatsSnapshot = { ...doc.progress, events: doc.events, durationMs: Math.max(0, now.getTime() - Date.parse(doc.startedAt ?? doc.requestedAt)) };
      const stored = await replays.update(doc.id, (current) =>
        current && current.status === 'running' && current.claimedBy === doc.claimedBy && (current.heartbeatAt ?? null) === (doc.heartbeatAt ?? null)
          ? { ...current, status: 'failed', finishedAt: at, stats, error: reason }
          : null,
      );
      if (stored?.status !== 'failed' || stored.finishedAt !== at) continue;
      const logger = this.deps.logger.child({ replayId: doc.id });
      logger.warn({ lastHeartbeat: new Date(lastSign).toISOString() }, 'replay left running by a stopped worker: failed');
      await this.deps.store
        .append(`replay-${doc.id}`, [{ type: 'replay.failed', payload: { replayId: doc.id, reason, stats } }], {
          expectedVersion: 'any',
          context: { correlationId: doc.correlationId, causationId: null, actor: { id: 'replay-service', role: 'system' } },
        })
        .catch((error: unknown) => logger.error({ err: error }, 'recording a stale replay as failed failed'));
      if (hasTemporaryTopics(bus)) {
        await bus
          .deleteTopic(replayTopicOf(doc.id), doc.targets.map((name) => this.queueOf(doc.id, name)))
          .catch((error: unknown) => logger.warn({ err: error }, 'removing a stale replay topic failed'));
      }
      // A rebuild left its new version half built: empty it (the active version never changed).
      for (const name of doc.targets) {
        const target = this.targets.get(name);
        if (target?.kind !== 'projection') continue;
        await new ProjectionRebuild(target.projection, documents, this.deps.store, clock)
          .abandonLeftover()
          .then((left) => left && logger.info({ projection: name, version: left }, 'half-built projection version emptied'))
          .catch((error: unknown) => logger.warn({ err: error, projection: name }, 'emptying a half-built projection version failed'));
      }
    }
  }

  private queueOf(replayId: string, target: string): string {
    return `${this.options.queuePrefix}replay.${replayId}.${target}`;
  }

  private async finish(
    id: string,
    status: 'completed' | 'cancelled' | 'failed',
    stats: ReplayStatsSnapshot,
    samples: readonly ReplayErrorSample[],
    reason: string | null,
    appendLifecycle: (event: Parameters<EventStore['append']>[1][number]) => Promise<number | null>,
  ): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await replaysCollection(this.deps.documents).update(id, (current) =>
      current
        ? { ...current, status, finishedAt: at, progress: { ...stats }, stats, error: reason, errorSamples: [...samples] }
        : null,
    );
    if (status === 'completed') await appendLifecycle({ type: 'replay.completed', payload: { replayId: id, stats } });
    else if (status === 'cancelled') await appendLifecycle({ type: 'replay.cancelled', payload: { replayId: id, stats } });
    else await appendLifecycle({ type: 'replay.failed', payload: { replayId: id, reason: reason ?? 'unknown', stats } });
  }

  private async handlerOf(run: TargetRun): Promise<BatchHandler> {
    const { target } = run;
    if (target.kind === 'consumer') return createIdempotentBatchHandler(this.deps.documents, target.definition, { clock: this.deps.clock });
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
  private counting(run: TargetRun, handler: BatchHandler, samples: ReplayErrorSample[], onSettled: () => void): BatchHandler {
    const { maxAttempts } = this.options;
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
      if (settled > 0) onSettled();
      return outcomes;
    };
  }

}

/** The stored event as the replay publishes it: replay flag, run id and batch, original position kept. */
export function asReplayed(event: AnyEventEnvelope, replayId: string, batch?: string): AnyEventEnvelope {
  const replayInfo = batch === undefined ? { replayId, originalPosition: event.position } : { replayId, originalPosition: event.position, batch };
  return { ...event, metadata: { ...event.metadata, replay: true, replayInfo } };
}

