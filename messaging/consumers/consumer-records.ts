// What an idempotent consumer records of the events it processed: a "processed" marker per
// (consumer, event) live and per (consumer, replay run, event) in replays, and one marker per
// replay batch listing its processed events. The marker is what makes a redelivery harmless.
import type { AnyEventEnvelope } from '../events/envelope';
import type { DocumentCollection, DocumentStore } from '../state/document-store';

export const CONSUMER_PROCESSED_COLLECTION = 'consumer_processed';
export const CONSUMER_REPLAY_BATCHES_COLLECTION = 'consumer_replay_batches';

/** One marker per (consumer, event) live, and per (consumer, replay run, event) for replays. */
export interface ProcessedMarker {
  readonly id: string;
  readonly consumer: string;
  readonly eventId: string;
  readonly type: string;
  readonly position: number;
  readonly mode: 'live' | 'replay';
  readonly replayId: string | null;
  readonly processedAt: string;
}

/** One marker per (consumer, replay run, batch): the batch's events processed so far. */
export interface ReplayBatchMarker {
  readonly id: string;
  readonly consumer: string;
  readonly replayId: string;
  /** `<first>-<last>` original positions of the batch message. */
  readonly batch: string;
  readonly eventIds: readonly string[];
  readonly processedAt: string;
}

/** What replays are keyed by when the replay service gave no run id. */
export const ANONYMOUS_REPLAY = 'anonymous';

export function replayIdOf(event: AnyEventEnvelope): string | null {
  if (event.metadata.replay !== true) return null;
  return event.metadata.replayInfo?.replayId ?? ANONYMOUS_REPLAY;
}

/** The marker id of a delivery: live and each replay run are recorded apart. */
export function processedKey(consumer: string, event: AnyEventEnvelope): string {
  const replayId = replayIdOf(event);
  return replayId === null ? `${consumer}:${event.id}` : `${consumer}:replay:${replayId}:${event.id}`;
}

/** The batch marker id of a replayed event that travelled in a batch; null otherwise. */
export function replayBatchKey(consumer: string, event: AnyEventEnvelope): string | null {
  const info = event.metadata.replayInfo;
  if (event.metadata.replay !== true || !info?.batch) return null;
  return `${consumer}:replay:${info.replayId}:batch:${info.batch}`;
}

export function replayBatchMarkers(store: DocumentStore): DocumentCollection<ReplayBatchMarker> {
  return store.collection<ReplayBatchMarker>(CONSUMER_REPLAY_BATCHES_COLLECTION, { indexes: ['consumer', 'replayId'] });
}

/**
 * Every delivery writes one, so each index costs every delivery: `processedAt` orders the pruning,
 * and `replayId`, null on live markers, is indexed only on replays' (a run's markers are cleared
 * by it). A SQLite commit of three live markers wrote 9 WAL pages instead of 17 without the
 * indexes of `consumer` and of live markers' null `replayId` (BENCHMARKS.md, issue 19). The index
 * of `consumer` that versions before that made is dropped from a store they wrote.
 */
export function processedMarkers(store: DocumentStore): DocumentCollection<ProcessedMarker> {
  return store.collection<ProcessedMarker>(CONSUMER_PROCESSED_COLLECTION, { indexes: ['processedAt'], sparseIndexes: ['replayId'], retiredIndexes: ['consumer'] });
}

/** Forget one replay run's markers (after it finished), so they do not pile up. Returns how many. */
export async function clearReplayMarkers(store: DocumentStore, consumer: string, replayId: string): Promise<number> {
  const markers = processedMarkers(store);
  let removed = 0;
  for (;;) {
    const batch = await markers.find({ where: { consumer, replayId }, limit: 500 });
    if (batch.length === 0) break;
    for (const marker of batch) if (await markers.delete(marker.id)) removed++;
  }
  // Batch markers count the events they list.
  const batches = replayBatchMarkers(store);
  for (;;) {
    const batch = await batches.find({ where: { consumer, replayId }, limit: 500 });
    if (batch.length === 0) return removed;
    for (const marker of batch) if (await batches.delete(marker.id)) removed += marker.eventIds.length;
  }
}
