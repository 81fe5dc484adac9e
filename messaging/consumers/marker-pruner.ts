// Live "processed" markers are what makes a redelivered event harmless, and a redelivery comes
// within minutes (a broker or consumer restart), not weeks. Without pruning they grow by one row per
// event and consumer forever; the pruner deletes those older than the retention, oldest first, in
// bounded batches, on a timer in the worker processes (several workers pruning at once only repeat
// harmless deletes). Replay markers are cleared by their replay when it ends; one that did not end
// (its worker died) leaves them for the pruner too. Expired idempotency keys are pruned with them.
import type { Clock } from '../../platform/clock';
import { FailureStreak } from '../../platform/failure-streak';
import type { Logger } from '../../platform/logger';
import { WakeableDelay } from '../../platform/wakeable-delay';
import type { DocumentStore } from '../state/document-store';
import { processedMarkers } from './consumer-records';
import { IdempotencyKeys } from '../state/idempotency-keys';

const BATCH = 500;

/** Delete the markers processed before `cutoff`, oldest first; returns how many. Stops at the first newer one. */
export async function pruneProcessedMarkers(store: DocumentStore, cutoff: Date, maxBatches = 100): Promise<number> {
  const markers = processedMarkers(store);
  const before = cutoff.toISOString();
  let removed = 0;
  for (let round = 0; round < maxBatches; round++) {
    const oldest = await markers.find({ orderBy: { field: 'processedAt' }, limit: BATCH });
    const due = oldest.filter((m) => m.processedAt < before);
    for (const marker of due) if (await markers.delete(marker.id)) removed++;
    // A batch with anything newer reached the cutoff.
    if (due.length < BATCH) break;
  }
  return removed;
}

export interface MarkerPrunerOptions {
  /** Markers older than this are deleted. */
  readonly retentionMs: number;
  /** Time between two prunes. */
  readonly intervalMs: number;
}

export class MarkerPruner {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly delay = new WakeableDelay();

  constructor(
    private readonly store: DocumentStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: MarkerPrunerOptions,
  ) {}

  /** One prune now (the timer's step; tests call it after moving the clock). */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.options.retentionMs);
    const removed = await pruneProcessedMarkers(this.store, cutoff);
    if (removed > 0) this.logger.info({ removed, before: cutoff.toISOString() }, 'pruned processed markers');
    // Idempotency keys past their 24 hours go the same way (a reused expired key is new again anyway).
    const keys = await new IdempotencyKeys(this.store, this.clock).prune();
    if (keys > 0) this.logger.info({ removed: keys }, 'pruned expired idempotency keys');
    return removed;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const pruning = new FailureStreak(this.logger, 'pruning processed markers', this.clock);
    this.loop = (async () => {
      while (this.running) {
        await this.delay.sleep(this.options.intervalMs);
        if (!this.running) break;
        await this.prune().then(
          () => pruning.succeeded(),
          (error: unknown) => pruning.failed(error),
        );
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.delay.wake();
    await this.loop;
    this.loop = null;
  }
}
