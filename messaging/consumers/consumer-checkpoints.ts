// A consumer's checkpoint: the highest position it processed live and its counts, for lag and the
// monitor. It is a measure, not what prevents repeats (the markers of consumer-records.ts are), so
// its updates are gathered and a missed one is only logged.
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import type { Logger } from '../../platform/logger';

export const CONSUMER_CHECKPOINTS_COLLECTION = 'consumer_checkpoints';

export interface ConsumerCheckpoint {
  /** The consumer name. */
  readonly id: string;
  /**
   * Highest global position processed live. With competing consumers and retries, events below it
   * may still be in flight: lag (head minus this) is a measure, not a guarantee of completeness.
   */
  readonly position: number;
  /** Events processed live (each counted once, however often delivered). */
  readonly processed: number;
  /** Deliveries acknowledged without running the handler because the event was already processed. */
  readonly skippedDuplicates: number;
  /** Events processed in replays. */
  readonly replayed: number;
  readonly lastEventId: string | null;
  readonly lastEventType: string | null;
  /** recordedAt of the last event processed live. */
  readonly lastEventAt: string | null;
  /** When the consumer last finished an event (live or replay), by its clock. */
  readonly lastProcessedAt: string | null;
  readonly lastReplayId: string | null;
  /** The event types the consumer handles, so the monitor can count what it still has to process. */
  readonly handles?: readonly string[];
}

export function consumerCheckpoints(store: DocumentStore): DocumentCollection<ConsumerCheckpoint> {
  return store.collection<ConsumerCheckpoint>(CONSUMER_CHECKPOINTS_COLLECTION);
}

export function emptyCheckpoint(consumer: string): ConsumerCheckpoint {
  return {
    id: consumer,
    position: 0,
    processed: 0,
    skippedDuplicates: 0,
    replayed: 0,
    lastEventId: null,
    lastEventType: null,
    lastEventAt: null,
    lastProcessedAt: null,
    lastReplayId: null,
  };
}

export async function readConsumerCheckpoint(store: DocumentStore, consumer: string): Promise<ConsumerCheckpoint> {
  return (await consumerCheckpoints(store).get(consumer)) ?? emptyCheckpoint(consumer);
}

export async function listConsumerCheckpoints(store: DocumentStore): Promise<ConsumerCheckpoint[]> {
  return consumerCheckpoints(store).find();
}

/** Positions a consumer is behind the store's head (never negative). */
export function consumerLag(checkpoint: Pick<ConsumerCheckpoint, 'position'>, headPosition: number): number {
  return Math.max(0, headPosition - checkpoint.position);
}

export type CheckpointChange = (current: ConsumerCheckpoint) => ConsumerCheckpoint;

/** The consumer's checkpoint with the changes applied in order (from an empty one if none yet). */
function applyChanges(consumer: string, changes: readonly CheckpointChange[], current: ConsumerCheckpoint | null): ConsumerCheckpoint {
  return changes.reduce((checkpoint, apply) => apply(checkpoint), current ?? emptyCheckpoint(consumer));
}

export interface CheckpointBumps {
  /** Record a change of the checkpoint; resolves once it is stored, or at once when written behind. */
  bump(change: CheckpointChange): Promise<unknown>;
  /** Write the changes gathered so far (written behind only). */
  flush(): Promise<void>;
}

/**
 * Checkpoint bumps of one consumer. With no delay, the bumps that arrive before the store runs the
 * pending update join it: one document update carries them all (with the SQLite store's group
 * commit, every delivery of a turn), and each caller still resolves only once its bump is stored.
 * With a delay, bumps gather for that long and one update writes them; callers do not wait.
 */
export function checkpointBumps(checkpoints: DocumentCollection<ConsumerCheckpoint>, consumer: string, delayMs: number, log: () => Logger): CheckpointBumps {
  if (delayMs <= 0) return { bump: coalescedCheckpointBumps(checkpoints, consumer), flush: async () => undefined };
  let gathered: CheckpointChange[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const changes = gathered;
    gathered = [];
    if (changes.length === 0) return writing;
    writing = writing.then(async () => {
      try {
        await checkpoints.update(consumer, (current) => applyChanges(consumer, changes, current));
      } catch (error) {
        // The marker is what prevents repeats; the checkpoint is a measure, so a missed bump is only logged.
        log().warn({ err: error, bumps: changes.length }, 'processed and recorded, but the checkpoint was not updated');
      }
    });
    return writing;
  };
  return {
    bump: (change) => {
      gathered.push(change);
      if (timer === null) {
        timer = setTimeout(() => void flush(), delayMs);
        timer.unref();
      }
      return Promise.resolve();
    },
    flush,
  };
}

function coalescedCheckpointBumps(checkpoints: DocumentCollection<ConsumerCheckpoint>, consumer: string): (change: CheckpointChange) => Promise<unknown> {
  let open: { readonly changes: CheckpointChange[]; stored: Promise<unknown> } | null = null;
  return (change) => {
    if (open) {
      open.changes.push(change);
      return open.stored;
    }
    const batch: { readonly changes: CheckpointChange[]; stored: Promise<unknown> } = { changes: [change], stored: Promise.resolve() };
    open = batch;
    batch.stored = checkpoints.update(consumer, (current) => {
      // The update is running: later bumps start the next one. (A store may run this more than
      // once, retrying a compare-and-set; folding the same list again gives the same document.)
      if (open === batch) open = null;
      return applyChanges(consumer, batch.changes, current);
    });
    // If the update failed before running the change, the batch must not stay open.
    batch.stored.catch(() => undefined).finally(() => {
      if (open === batch) open = null;
    });
    return batch.stored;
  };
}
