// The replay service's worker side: claims requested replays from the `replays` documents and runs
// each to its end (replay-run.ts), keeps a heartbeat on the one it runs, and fails the replays of
// workers that stopped. Memory is bounded: a run reads the store in batches and waits while too
// many deliveries are unsettled.
import { randomUUID } from 'node:crypto';
import type { ReplayStatsSnapshot } from '../events/catalog/replay';
import { hasTemporaryTopics, type EventBus } from '../bus/event-bus';
import type { DocumentStore } from '../state/document-store';
import type { EventStore } from '../store/event-store';
import type { Clock } from '../../platform/clock';
import type { Logger } from '../../platform/logger';
import { replayTargetsCollection, replaysCollection, type ReplayDoc } from './replay-model';
import { ProjectionRebuild } from './projection-versions';
import { appendReplayLifecycle, ReplayRun, replayQueueOf, replayTopicOf } from './replay-run';
import type { ReplayTarget } from './replay-targets';
import { WakeableDelay } from '../../platform/wakeable-delay';
import { FailureStreak } from '../../platform/failure-streak';

export { asReplayed, replayTopicOf } from './replay-run';

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
    const run = new ReplayRun(doc, {
      ...this.deps,
      ...this.options,
      targets: this.targets,
      track: (work) => {
        this.cleanups.add(work);
        void work.finally(() => this.cleanups.delete(work));
      },
    });
    this.current = { id: doc.id, cancel: () => run.cancel() };
    try {
      await run.execute();
    } finally {
      this.current = null;
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
      await appendReplayLifecycle(this.deps.store, doc, { type: 'replay.failed', payload: { replayId: doc.id, reason, stats } }).catch((error: unknown) => logger.error({ err: error }, 'recording a stale replay as failed failed'));
      if (hasTemporaryTopics(bus)) {
        await bus
          .deleteTopic(replayTopicOf(doc.id), doc.targets.map((name) => replayQueueOf(this.options.queuePrefix, doc.id, name)))
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
}
