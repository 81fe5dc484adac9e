// The EventStore port: append-only streams with optimistic concurrency, a global order, and
// snapshots. Adapters: in-memory (tests), embedded file-backed SQLite (default), MongoDB.
import type { AnyEventEnvelope, AnyNewEvent, CausationContext } from '../events/envelope';
import type { EventType } from '../events/catalog';

/**
 * What the caller believes the stream's version is:
 * a number (the exact current version; 0 = empty stream), 'no_stream' (same as 0), or 'any'.
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion;
  readonly context: CausationContext;
}

export interface AppendResult {
  /** The stream's version after the append (pass as expectedVersion next time). */
  readonly nextExpectedVersion: number;
  /** The stored envelopes, in order; on an idempotent re-append, the ones stored before. */
  readonly events: readonly AnyEventEnvelope[];
}

export interface ReadAllOptions {
  /** Exclusive: events with position > after. Default 0 (from the start). */
  readonly after?: number;
  /**
   * Inclusive: events with position <= until (never past the settled head). A follower that asks
   * for some types reads up to a head it took first, then moves its position there: the events of
   * other types in between were never its concern, and none of them is read.
   */
  readonly until?: number;
  /** Inclusive lower bound on recordedAt (ISO-8601). */
  readonly from?: string;
  /** Exclusive upper bound on recordedAt (ISO-8601). */
  readonly to?: string;
  readonly types?: readonly EventType[];
  /** Events per yielded batch; bounds memory. Default 500. */
  readonly batchSize?: number;
}

export interface Snapshot<S = unknown> {
  readonly streamId: string;
  /** Stream version the state reflects. */
  readonly version: number;
  /** Version of the state's shape, so a changed aggregate can ignore old snapshots. */
  readonly schemaVersion: number;
  readonly state: S;
  readonly takenAt: string;
}

export interface EventStore {
  /**
   * Append atomically. Validates every payload against the schema registry first; an invalid
   * event fails the whole call and nothing is stored. Throws ConcurrencyError when the stream
   * is not at `expectedVersion`. Re-appending events whose ids are already stored (same stream,
   * same ids) is a no-op that returns the stored envelopes.
   */
  append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult>;

  /** Events of one stream with streamVersion >= fromVersion (default 1), in order. */
  readStream(streamId: string, fromVersion?: number): Promise<AnyEventEnvelope[]>;

  /** Current version of a stream, 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;

  /**
   * All events in global order, in batches. Only yields events up to the settled head: a
   * position reserved by a writer that has not committed yet stops the read there, so a
   * follower never skips an event that commits late.
   */
  readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]>;

  /** Highest position that a follower may safely read up to (no pending gaps below it). */
  headPosition(): Promise<number>;

  saveSnapshot<S>(snapshot: Snapshot<S>): Promise<void>;
  loadSnapshot<S>(streamId: string): Promise<Snapshot<S> | null>;

  close(): Promise<void>;
}
