// In-memory EventStore: the fast adapter for tests. Each append validates first, then commits in
// one synchronous step, so positions are taken and made visible together and no gap ever exists.
import { systemClock, type Clock } from '../../platform/clock';
import { deepFreeze } from '../../platform/deep-freeze';
import type { AnyEventEnvelope, AnyNewEvent } from '../events/envelope';
import {
  checkExpectedVersion,
  checkSnapshot,
  checkStreamId,
  classifyStoredIds,
  matchesReadAll,
  prepareEvents,
  resolveReadAll,
  supersedes,
  toEnvelope,
} from './append-preparation';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

export class MemoryEventStore implements EventStore {
  /** All events; index = position - 1. */
  private readonly all: AnyEventEnvelope[] = [];
  private readonly streams = new Map<string, AnyEventEnvelope[]>();
  private readonly byId = new Map<string, AnyEventEnvelope>();
  private readonly snapshots = new Map<string, Snapshot<unknown>>();
  private closed = false;

  constructor(private readonly clock: Clock = systemClock) {}

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.checkOpen();
    checkStreamId(streamId);
    const prepared = prepareEvents(events, options.context, this.clock);
    const stored = prepared.flatMap((p) => {
      const found = p.idSupplied ? this.byId.get(p.id) : undefined;
      return found ? [found] : [];
    });
    if (classifyStoredIds(streamId, prepared, stored) === 'replay') {
      const replayed = [...stored].sort((a, b) => a.streamVersion - b.streamVersion);
      return { nextExpectedVersion: replayed[replayed.length - 1]?.streamVersion ?? 0, events: replayed };
    }
    const stream = this.streams.get(streamId) ?? [];
    checkExpectedVersion(streamId, options.expectedVersion, stream.length);
    // Everything below is synchronous: nothing else runs between taking and publishing positions.
    const envelopes = prepared.map((p, i) => toEnvelope(p, streamId, stream.length + i + 1, this.all.length + i + 1));
    const kept = envelopes.map(frozenCopy);
    for (const e of kept) {
      this.all.push(e);
      stream.push(e);
      this.byId.set(e.id, e);
    }
    this.streams.set(streamId, stream);
    return { nextExpectedVersion: stream.length, events: kept };
  }

  async readStream(streamId: string, fromVersion = 1): Promise<AnyEventEnvelope[]> {
    this.checkOpen();
    const stream = this.streams.get(streamId) ?? [];
    return stream.slice(Math.max(0, fromVersion - 1));
  }

  async streamVersion(streamId: string): Promise<number> {
    this.checkOpen();
    return this.streams.get(streamId)?.length ?? 0;
  }

  async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    this.checkOpen();
    const read = resolveReadAll(options);
    // The head when the read starts: later appends are for the next read, as in the other adapters.
    const head = Math.min(this.all.length, read.until);
    let batch: AnyEventEnvelope[] = [];
    for (let index = read.after; index < head; index++) {
      const event = this.all[index];
      if (!event || !matchesReadAll(event, read)) continue;
      batch.push(event);
      if (batch.length === read.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async headPosition(): Promise<number> {
    this.checkOpen();
    return this.all.length;
  }

  async saveSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    this.checkOpen();
    checkSnapshot(snapshot);
    if (supersedes(snapshot, this.snapshots.get(snapshot.streamId) ?? null)) {
      this.snapshots.set(snapshot.streamId, structuredClone(snapshot));
    }
  }

  async loadSnapshot<S>(streamId: string): Promise<Snapshot<S> | null> {
    this.checkOpen();
    const snapshot = this.snapshots.get(streamId);
    return snapshot ? (structuredClone(snapshot) as Snapshot<S>) : null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('MemoryEventStore is closed.');
  }
}

/**
 * The store keeps one deeply frozen copy of each envelope and hands that same object to every
 * reader: nobody can change what is stored (a write throws in strict mode), and reads cost no copy.
 */
function frozenCopy(event: AnyEventEnvelope): AnyEventEnvelope {
  return deepFreeze(structuredClone(event));
}
