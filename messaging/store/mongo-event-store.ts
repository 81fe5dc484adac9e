// MongoDB EventStore (official driver 6) for mongod 6+, a replica set or a standalone: no transactions,
// no change streams. One document per event in `events` (`_id` = event id), snapshots in `snapshots`.
// It runs on the process's shared MongoConnection (platform/mongodb.ts); a failure of the "server
// unavailable" kind reaches callers as UNAVAILABLE, a duplicate key as CONFLICT.
//
// How an append works without transactions:
//   1. validate (nothing is written for a refused event); an append of ids already stored in this
//      stream returns the stored envelopes (idempotent retry);
//   2. read the stream's version and check the expected version (most conflicts end here, cheaply);
//   3. reserve N global positions at once: `counters` {_id:'events.position'} findOneAndUpdate $inc N;
//   4. insertMany, ordered. The unique index {streamId, streamVersion} makes exactly one of two
//      concurrent writers of the same versions win: the loser fails on its first document.
//      Each event also stores `appendEnd`, the last position of its append.
//   If the server refuses the insert, the writer deletes whatever part of its batch got in. An
//   `expectedVersion: 'any'` append refused for its versions reads the stream's version again and
//   inserts after it, keeping its positions (bounded: ANY_APPEND_ATTEMPTS); 'any' never fails
//   with a ConcurrencyError. Any other refusal records all its reserved positions in `event_gaps` as
//   abandoned and fails with a coded error (CONFLICT for a version or an id taken).
//
// The settled head (the slow-writer case): positions are reserved before they are committed, so a
// writer holding 10 can commit after the writer holding 11. A reader never reads past the settled
// head: the highest position P such that every position up to P is committed or abandoned, and P
// ends an append (so a reader never sees half an append). A missing position below the highest
// committed one stops readers until
//   - it commits (the common case: a few milliseconds), or
//   - it is marked abandoned in `event_gaps` by its failed writer (readers skip it at once), or
//   - it stayed missing for `staleGapMs` (default 10 s, measured with the injected clock from when
//     this reader first saw it): the writer presumably crashed between reserve and insert. The reader
//     then fences the position (`event_gaps` reason 'stale') so every reader skips it from then on,
//     and looks once more for the event (an event present wins over a fence). A writer that finishes
//     after its positions were fenced finds the fence, deletes its events and fails with UNAVAILABLE
//     (retry with the same ids is safe): no follower ever skips a stored event. In the worst race a
//     reader saw the event an instant before the writer took it back: at least once, and the retry
//     carries the same event ids, so idempotent consumers drop the repeat.
//     That check costs a round trip, so a writer makes it only when its append took at least half
//     of staleGapMs: no reader can have fenced it sooner (clock skew between processes up to
//     staleGapMs / 2 is tolerated).
// Known limit (the price of no transactions): a process that dies in the middle of insertMany leaves
// the first part of its append; after staleGapMs readers skip the missing rest and see that part.
import { type Collection, type Db, type Filter, type W } from 'mongodb';
import { systemClock, type Clock } from '../../platform/clock';
import { ConcurrencyError, DomainError } from '../../platform/errors';
import {
  codedMongoError,
  duplicateKeyOf,
  firstWriteErrorOf,
  mongoCall,
  MongoConnection,
  type DuplicateKey,
} from '../../platform/mongodb';
import type { Actor, AnyEventEnvelope, AnyNewEvent, EventMetadata } from '../events/envelope';
import {
  checkExpectedVersion,
  checkSnapshot,
  checkStreamId,
  classifyStoredIds,
  DuplicateEventError,
  prepareEvents,
  readEnvelope,
  resolveReadAll,
  toEnvelope,
  type PreparedEvent,
} from './append-preparation';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

export const EVENTS_COLLECTION = 'events';
export const SNAPSHOTS_COLLECTION = 'snapshots';
export const COUNTERS_COLLECTION = 'counters';
export const EVENT_GAPS_COLLECTION = 'event_gaps';
export const DEFAULT_STALE_GAP_MS = 10_000;
/** Inserts an 'any' append tries before giving up (UNAVAILABLE); each failed one lost to another writer. */
export const ANY_APPEND_ATTEMPTS = 100;
const POSITION_COUNTER = 'events.position';
/** Positions looked at per round trip while settling the head. */
const SCAN_CHUNK = 5_000;

/** The positions one append reserved (both inclusive). */
export interface PositionReservation {
  readonly streamId: string;
  readonly firstPosition: number;
  readonly lastPosition: number;
}

/** Test seams: hold an append between its steps to stage the slow-writer case deterministically. */
export interface MongoEventStoreHooks {
  /** Runs after positions are reserved, before the events are inserted. A throw fails the append. */
  afterReserve?(reservation: PositionReservation): Promise<void> | void;
}

export type MongoEventStoreOptions = (
  | {
      /** The process's shared connection; the store does not close it. */
      readonly connection: MongoConnection;
    }
  | {
      /** A connection of the store's own (closed with it), with this server-selection timeout. */
      readonly uri: string;
      readonly timeoutMs?: number;
    }
) & {
  /** Defaults to the database in the URI, else `membership`. */
  readonly dbName?: string;
  /** Write concern of appends and snapshots: 'majority' (default) or a number of nodes. */
  readonly writeConcern?: 'majority' | number;
  readonly clock?: Clock;
  /** How long a missing position may block readers before it counts as abandoned (see the header). */
  readonly staleGapMs?: number;
  readonly hooks?: MongoEventStoreHooks;
};

interface EventDoc {
  _id: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  streamVersion: number;
  position: number;
  /** Last position of the append this event belongs to. */
  appendEnd: number;
  occurredAt: Date;
  recordedAt: Date;
  correlationId: string;
  causationId: string | null;
  actor: Actor | null;
  metadata: EventMetadata;
  payload: unknown;
}

interface GapDoc {
  /** The abandoned position. */
  _id: number;
  reason: 'failed' | 'stale';
  streamId: string | null;
  at: Date;
}

interface CounterDoc {
  _id: string;
  value: number;
}

interface SnapshotDoc {
  _id: string;
  version: number;
  schemaVersion: number;
  state: unknown;
  takenAt: string;
}

function fromDoc(doc: EventDoc): AnyEventEnvelope {
  return readEnvelope({
    id: doc._id,
    type: doc.type,
    schemaVersion: doc.schemaVersion,
    streamId: doc.streamId,
    streamVersion: doc.streamVersion,
    position: doc.position,
    occurredAt: doc.occurredAt.toISOString(),
    recordedAt: doc.recordedAt.toISOString(),
    correlationId: doc.correlationId,
    causationId: doc.causationId ?? null,
    actor: doc.actor ?? null,
    metadata: doc.metadata,
    payload: doc.payload,
  });
}

function toDoc(p: PreparedEvent, streamId: string, streamVersion: number, position: number, appendEnd: number): EventDoc {
  return {
    _id: p.id,
    type: p.type,
    schemaVersion: p.schemaVersion,
    streamId,
    streamVersion,
    position,
    appendEnd,
    occurredAt: new Date(p.occurredAt),
    recordedAt: new Date(p.recordedAt),
    correlationId: p.correlationId,
    causationId: p.causationId,
    actor: p.actor,
    metadata: p.metadata,
    payload: p.payload,
  };
}

const isVersionClash = (d: DuplicateKey) => d.index === 'stream_version' || d.fields.includes('streamVersion');
const isIdClash = (d: DuplicateKey) => d.index === '_id_' || (d.fields.length === 1 && d.fields[0] === '_id');
const isPositionClash = (d: DuplicateKey) => d.index === 'position' || (d.fields.length === 1 && d.fields[0] === 'position');

export class MongoEventStore implements EventStore {
  private readonly events: Collection<EventDoc>;
  private readonly gaps: Collection<GapDoc>;
  private readonly counters: Collection<CounterDoc>;
  private readonly snapshots: Collection<SnapshotDoc>;
  private readonly clock: Clock;
  private readonly staleGapMs: number;
  /** Every position up to here is committed or abandoned and ends an append. */
  private settled = 0;
  /** Missing positions this reader is waiting on, with the clock time it first saw each. */
  private readonly gapSeenAt = new Map<number, number>();

  private constructor(
    private readonly connection: MongoConnection,
    /** Whether the connection is this store's own (closed with it) rather than the process's. */
    private readonly ownsConnection: boolean,
    readonly db: Db,
    private readonly options: MongoEventStoreOptions,
  ) {
    const writeConcern = { w: (options.writeConcern ?? 'majority') as W };
    this.events = db.collection<EventDoc>(EVENTS_COLLECTION, { writeConcern });
    this.gaps = db.collection<GapDoc>(EVENT_GAPS_COLLECTION, { writeConcern });
    this.counters = db.collection<CounterDoc>(COUNTERS_COLLECTION, { writeConcern });
    this.snapshots = db.collection<SnapshotDoc>(SNAPSHOTS_COLLECTION, { writeConcern });
    this.clock = options.clock ?? systemClock;
    this.staleGapMs = options.staleGapMs ?? DEFAULT_STALE_GAP_MS;
  }

  /** Connects, creates the indexes and brings the position counter up to the stored events. */
  static async connect(options: MongoEventStoreOptions): Promise<MongoEventStore> {
    const owned = 'connection' in options ? null : new MongoConnection({ uri: options.uri, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    const connection = 'connection' in options ? options.connection : (owned as MongoConnection);
    try {
      const store = new MongoEventStore(connection, owned !== null, connection.db(options.dbName), options);
      await mongoCall(() => store.prepare());
      return store;
    } catch (error) {
      await owned?.close().catch(() => undefined);
      const coded = codedMongoError(error);
      if (coded instanceof DomainError) throw coded;
      throw new DomainError('UNAVAILABLE', `MongoDB event store unavailable: ${(error as Error).message}`);
    }
  }

  private async prepare(): Promise<void> {
    await this.events.createIndexes([
      { key: { streamId: 1, streamVersion: 1 }, name: 'stream_version', unique: true },
      { key: { position: 1 }, name: 'position', unique: true },
      { key: { recordedAt: 1 }, name: 'recorded_at' },
      { key: { type: 1, position: 1 }, name: 'type_position' },
    ]);
    await this.raiseCounterToStoredEvents();
  }

  /** A lost or restored counter must never hand out a position that is already taken. */
  private async raiseCounterToStoredEvents(): Promise<void> {
    const top = await this.events.find({}, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).next();
    await this.counters.updateOne({ _id: POSITION_COUNTER }, { $max: { value: top?.position ?? 0 } }, { upsert: true });
  }

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    checkStreamId(streamId);
    const prepared = prepareEvents(events, options.context, this.clock);
    return mongoCall(() => this.appendPrepared(streamId, prepared, options));
  }

  private async appendPrepared(streamId: string, prepared: readonly PreparedEvent[], options: AppendOptions): Promise<AppendResult> {
    const replayed = await this.replayOf(streamId, prepared);
    if (replayed) return replayed;
    let current = await this.streamVersion(streamId);
    checkExpectedVersion(streamId, options.expectedVersion, current);
    if (prepared.length === 0) return { nextExpectedVersion: current, events: [] };

    const reservedAt = this.clock.now().getTime();
    let lastPosition = await this.reserve(prepared.length);
    let firstPosition = lastPosition - prepared.length + 1;
    try {
      await this.options.hooks?.afterReserve?.({ streamId, firstPosition, lastPosition });
    } catch (error) {
      await this.abandon(streamId, firstPosition, lastPosition);
      throw error;
    }

    for (let attempt = 1; ; attempt++) {
      const docs = prepared.map((p, i) => toDoc(p, streamId, current + i + 1, firstPosition + i, lastPosition));
      try {
        await this.events.insertMany(docs, { ordered: true });
      } catch (error) {
        const refused = firstWriteErrorOf(error);
        if (!refused) throw error; // outcome unknown (the connection went): see the header
        // The server refused document `refused.at`; the ones before it went in. Take them back.
        const inserted = docs.slice(0, refused.at);
        if (inserted.length > 0) {
          await this.events.deleteMany({ _id: { $in: inserted.map((d) => d._id) }, position: { $gte: firstPosition, $lte: lastPosition } });
        }
        const duplicate = duplicateKeyOf(error);
        if (duplicate && isVersionClash(duplicate) && options.expectedVersion === 'any' && attempt < ANY_APPEND_ATTEMPTS) {
          // 'any' means any: another writer took these versions, so go after theirs. The reserved
          // positions stay this append's (nothing of it is left in), so readers wait on them as before.
          current = await this.streamVersion(streamId);
          continue;
        }
        if (duplicate && isPositionClash(duplicate) && attempt < ANY_APPEND_ATTEMPTS) {
          // The position counter is behind the stored events (a restored backup): bring it up and reserve again.
          await this.abandon(streamId, firstPosition, lastPosition);
          await this.raiseCounterToStoredEvents();
          lastPosition = await this.reserve(prepared.length);
          firstPosition = lastPosition - prepared.length + 1;
          continue;
        }
        // Release every reserved position so readers move on at once, then say why.
        await this.abandon(streamId, firstPosition, lastPosition);
        if (!duplicate) throw error;
        if (isVersionClash(duplicate)) {
          if (options.expectedVersion === 'any') {
            throw new DomainError('UNAVAILABLE', `Stream ${streamId} kept moving under ${ANY_APPEND_ATTEMPTS} appends in a row; nothing was stored: try again.`, {
              streamId,
            });
          }
          throw new ConcurrencyError(streamId, options.expectedVersion, await this.streamVersion(streamId));
        }
        if (isIdClash(duplicate)) {
          // An identical append (a retry) got in first, or the id is taken in another stream (classified there).
          const again = await this.replayOf(streamId, prepared);
          if (again) return again;
          throw new DuplicateEventError(`An event id of this append to ${streamId} was stored concurrently by another append: re-send with new ids.`, {
            streamId,
            eventId: duplicate.value?.['_id'] ?? null,
          });
        }
        throw new DomainError('CONFLICT', `The event store refused the append to ${streamId}: its unique index ${duplicate.index ?? duplicate.fields.join(', ')} already holds this value.`, {
          streamId,
          index: duplicate.index,
          fields: duplicate.fields,
        });
      }
      if (this.clock.now().getTime() - reservedAt >= this.staleGapMs / 2) await this.checkNotFenced(docs, firstPosition, lastPosition);
      return {
        nextExpectedVersion: current + prepared.length,
        events: prepared.map((p, i) => toEnvelope(p, streamId, current + i + 1, firstPosition + i)),
      };
    }
  }

  /** The stored envelopes when every supplied id is already in this stream (idempotent retry). */
  private async replayOf(streamId: string, prepared: readonly PreparedEvent[]): Promise<AppendResult | null> {
    const supplied = prepared.filter((p) => p.idSupplied).map((p) => p.id);
    if (supplied.length === 0) return null;
    const stored = await this.events.find({ _id: { $in: supplied } }).sort({ streamVersion: 1 }).toArray();
    const identities = stored.map((d) => ({ id: d._id, streamId: d.streamId, type: d.type }));
    if (classifyStoredIds(streamId, prepared, identities) === 'new') return null;
    const events = stored.map(fromDoc);
    return { nextExpectedVersion: events[events.length - 1]?.streamVersion ?? 0, events };
  }

  /** Reserve `count` positions; returns the last one. One round trip per append, whatever its size. */
  private async reserve(count: number): Promise<number> {
    const counter = await this.counters.findOneAndUpdate(
      { _id: POSITION_COUNTER },
      { $inc: { value: count } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!counter) throw new DomainError('UNAVAILABLE', 'MongoDB did not return the position counter.');
    return counter.value;
  }

  /** Record reserved positions as abandoned, so readers skip them without waiting. */
  private async abandon(streamId: string, first: number, last: number): Promise<void> {
    const at = this.clock.now();
    const ops = [];
    for (let position = first; position <= last; position++) {
      ops.push({
        updateOne: {
          filter: { _id: position },
          update: { $setOnInsert: { reason: 'failed' as const, streamId, at } },
          upsert: true,
        },
      });
    }
    await this.gaps.bulkWrite(ops, { ordered: false });
  }

  /** After a slow append: if readers fenced any of its positions, take the events back and fail. */
  private async checkNotFenced(docs: readonly EventDoc[], first: number, last: number): Promise<void> {
    const fenced = await this.gaps.countDocuments({ _id: { $gte: first, $lte: last }, reason: 'stale' });
    if (fenced === 0) return;
    const streamId = docs[0]?.streamId ?? '';
    await this.events.deleteMany({ _id: { $in: docs.map((d) => d._id) }, position: { $gte: first, $lte: last } });
    await this.abandon(streamId, first, last);
    throw new DomainError(
      'UNAVAILABLE',
      `The append to ${streamId} took longer than ${this.staleGapMs} ms and readers moved past its positions; nothing was stored. Retry (with the same event ids).`,
      { streamId, firstPosition: first, lastPosition: last },
    );
  }

  async readStream(streamId: string, fromVersion = 1): Promise<AnyEventEnvelope[]> {
    const docs = await mongoCall(() => this.events.find({ streamId, streamVersion: { $gte: fromVersion } }).sort({ streamVersion: 1 }).toArray());
    return docs.map(fromDoc);
  }

  /**
   * The version of the stream's complete appends. An append whose first events are stored but not
   * its last is in flight, or being taken back after a refusal: the stream counts as before it, so
   * that no writer puts its events after events that may vanish (which would leave a hole in the
   * versions); a writer going for those versions clashes and reads again. Only an append left so for
   * staleGapMs (its writer died mid-insert, see the header) counts as it stands.
   */
  streamVersion(streamId: string): Promise<number> {
    return mongoCall(async () => {
      const top = await this.events
        .find({ streamId }, { projection: { _id: 0, streamVersion: 1, position: 1, appendEnd: 1, recordedAt: 1 } })
        .sort({ streamVersion: -1 })
        .limit(1)
        .next();
      if (!top) return 0;
      if (top.appendEnd <= top.position) return top.streamVersion;
      if (this.clock.now().getTime() - top.recordedAt.getTime() >= this.staleGapMs) return top.streamVersion;
      const first = await this.events
        .find({ streamId, appendEnd: top.appendEnd }, { projection: { _id: 0, streamVersion: 1 } })
        .sort({ streamVersion: 1 })
        .limit(1)
        .next();
      return (first?.streamVersion ?? top.streamVersion) - 1;
    });
  }

  async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    const read = resolveReadAll(options);
    try {
      yield* this.readSettled(read);
    } catch (error) {
      throw codedMongoError(error);
    }
  }

  private async *readSettled(read: ReturnType<typeof resolveReadAll>): AsyncIterable<AnyEventEnvelope[]> {
    const head = Math.min(await this.settledHead(read.after), read.until);
    let after = read.after;
    while (after < head) {
      const filter: Filter<EventDoc> = { position: { $gt: after, $lte: head } };
      if (read.from !== null || read.to !== null) {
        filter.recordedAt = {
          ...(read.from !== null ? { $gte: new Date(read.from) } : {}),
          ...(read.to !== null ? { $lt: new Date(read.to) } : {}),
        };
      }
      if (read.types !== null) filter.type = { $in: [...read.types] };
      const docs = await this.events.find(filter).sort({ position: 1 }).limit(read.batchSize).toArray();
      const last = docs[docs.length - 1];
      if (!last) return;
      after = last.position;
      yield docs.map(fromDoc);
      if (docs.length < read.batchSize) return;
    }
  }

  headPosition(): Promise<number> {
    return mongoCall(() => this.settledHead(this.settled));
  }

  /**
   * The settled head, scanning from `from` (a position the caller already knows settled). Advances
   * the shared `settled` mark when the scan started at or below it.
   */
  private async settledHead(from: number): Promise<number> {
    const start = Math.max(from, this.settled);
    const head = await this.scanFrom(start);
    if (from <= this.settled && head > this.settled) this.settled = head;
    for (const position of this.gapSeenAt.keys()) if (position <= this.settled) this.gapSeenAt.delete(position);
    return head;
  }

  private async scanFrom(start: number): Promise<number> {
    const top = await this.events.find({}, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).next();
    const maxCommitted = top?.position ?? 0;
    let boundary = start;
    let checked = start;
    scan: while (checked < maxCommitted) {
      const upTo = Math.min(maxCommitted, checked + SCAN_CHUNK);
      const [present, abandoned] = await Promise.all([
        this.events
          .find({ position: { $gt: checked, $lte: upTo } }, { projection: { _id: 0, position: 1, appendEnd: 1 } })
          .toArray(),
        this.gaps.find({ _id: { $gt: checked, $lte: upTo } }, { projection: { _id: 1 } }).toArray(),
      ]);
      const appendEnds = new Map(present.map((d) => [d.position, d.appendEnd]));
      const skipped = new Set(abandoned.map((g) => g._id));
      for (let position = checked + 1; position <= upTo; position++) {
        const end = appendEnds.get(position);
        if (end !== undefined) {
          if (end <= position) boundary = position;
        } else if (skipped.has(position)) {
          boundary = position;
        } else if (await this.fenceIfStale(position)) {
          // Fenced (or it committed just now): look at it again from here.
          checked = position - 1;
          continue scan;
        } else {
          return boundary;
        }
        checked = position;
      }
    }
    return boundary;
  }

  /** True when `position` has been missing for staleGapMs and is now fenced as abandoned. */
  private async fenceIfStale(position: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    const seenAt = this.gapSeenAt.get(position);
    if (seenAt === undefined) {
      this.gapSeenAt.set(position, now);
      return false;
    }
    if (now - seenAt < this.staleGapMs) return false;
    await this.gaps.updateOne(
      { _id: position },
      { $setOnInsert: { reason: 'stale', streamId: null, at: new Date(now) } },
      { upsert: true },
    );
    this.gapSeenAt.delete(position);
    return true;
  }

  async saveSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    checkSnapshot(snapshot);
    await mongoCall(() => this.writeSnapshot(snapshot));
  }

  private async writeSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    try {
      // Only replaces an older (or equal) version: the latest snapshot wins whatever the save order.
      await this.snapshots.updateOne(
        { _id: snapshot.streamId, version: { $lte: snapshot.version } },
        {
          $set: {
            version: snapshot.version,
            schemaVersion: snapshot.schemaVersion,
            state: snapshot.state as unknown,
            takenAt: snapshot.takenAt,
          },
        },
        { upsert: true },
      );
    } catch (error) {
      // The upsert clashed with a newer snapshot of the stream (its _id): keep that one.
      if (duplicateKeyOf(error)) return;
      throw error;
    }
  }

  async loadSnapshot<S>(streamId: string): Promise<Snapshot<S> | null> {
    const doc = await mongoCall(() => this.snapshots.findOne({ _id: streamId }));
    if (!doc) return null;
    return { streamId: doc._id, version: doc.version, schemaVersion: doc.schemaVersion, state: doc.state as S, takenAt: doc.takenAt };
  }

  /** Closes the connection when it is the store's own; a shared one is closed by its owner (backends). */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}
