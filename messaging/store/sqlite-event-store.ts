// Embedded, file-backed EventStore on SQLite (better-sqlite3, WAL): the default without MONGODB_URI.
// Appends run under the write lock (BEGIN IMMEDIATE), so positions are taken and committed in position
// order; the appends of one event-loop turn run together in that transaction (group commit, paced
// under load: EVENT_COMMIT_INTERVAL_MS), each resolving once committed. WAL readers see whole
// commits only, so a follower never meets a gap.
import path from 'node:path';
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../platform/clock';
import { checkpointOnOwn, openSqlite, SqliteCheckpointer, SqliteGroupCommit } from '../../platform/sqlite';
import type { Actor, AnyEventEnvelope, AnyNewEvent, EventMetadata } from '../events/envelope';
import {
  checkExpectedVersion,
  checkSnapshot,
  checkStreamId,
  classifyStoredIds,
  prepareEvents,
  readEnvelope,
  resolveReadAll,
  toEnvelope,
  type PreparedEvent,
  type ResolvedReadAll,
  type StoredIdentity,
} from './append-preparation';
import type { AppendOptions, AppendResult, EventStore, ExpectedVersion, ReadAllOptions, Snapshot } from './event-store';
import { RecentEvents } from './recent-events';

/** The file name of the event store inside the data directory. */
export const EVENT_STORE_FILE = 'events.sqlite';

/** Where the embedded event store of a data directory lives. */
export function eventStoreFile(dataDir: string): string {
  return path.join(dataDir, EVENT_STORE_FILE);
}

export interface SqliteEventStoreOptions {
  /** Database file (its directory is created), or ':memory:'. */
  readonly file: string;
  readonly clock?: Clock;
  /**
   * 'normal' (default): in WAL mode a commit survives a crash of the process, and the last commits
   * may be lost only if the machine itself loses power. 'full': fsync on every commit (slower).
   */
  readonly synchronous?: 'normal' | 'full';
  /** Events this connection appended last that reads of the log's tail get from memory (0: none). */
  readonly recentEvents?: number;
  /** The shortest time between two commits (default EVENT_COMMIT_INTERVAL_MS; 0: every turn's appends commit at its end). */
  readonly commitIntervalMs?: number;
  /** Checkpoint the WAL from a thread of this store's (default true; see BackendsOptions.checkpoints). */
  readonly checkpoints?: boolean;
}

/**
 * The shortest time between two commits of the event store (SqliteGroupCommit's pacing), shorter
 * than the document store's: every mutation waits for its append. Each commit wakes the followers
 * (relay, projections), and each woken follower reads and hands on what it finds, so fewer, larger
 * commits under load mean fewer of those turns as well as fewer WAL pages. At 200 mutations/s on a
 * saturated two-core machine, pacing to 2 ms met the p99 goal of subscription latency in 8 of 9 quick
 * runs against 6 of 9 unpaced (BENCHMARKS.md, issue 19). An append waits only within 2 ms of a
 * commit of several appends.
 */
export const EVENT_COMMIT_INTERVAL_MS = 2;

/** How many of its own latest appends a store keeps for its followers (recent-events.ts). */
export const RECENT_EVENTS = 10_000;

interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  occurred_at: string;
  recorded_at: string;
  correlation_id: string;
  causation_id: string | null;
  actor: string | null;
  metadata: string;
  payload: string;
}

/** A row this connection inserted, at the position it got. */
interface InsertedRow {
  readonly position: number;
  readonly row: EventRow;
}

interface SnapshotRow {
  stream_id: string;
  version: number;
  schema_version: number;
  state: string;
  taken_at: string;
}

type InsertParams = [string, string, number, string, number, string, string, string, string | null, string | null, string, string];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position        INTEGER PRIMARY KEY,
  id              TEXT    NOT NULL UNIQUE,
  stream_id       TEXT    NOT NULL,
  stream_version  INTEGER NOT NULL,
  type            TEXT    NOT NULL,
  schema_version  INTEGER NOT NULL,
  occurred_at     TEXT    NOT NULL,
  recorded_at     TEXT    NOT NULL,
  correlation_id  TEXT    NOT NULL,
  causation_id    TEXT,
  actor           TEXT,
  metadata        TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at, position);
CREATE INDEX IF NOT EXISTS events_type_position ON events (type, position);
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id       TEXT    PRIMARY KEY NOT NULL,
  version         INTEGER NOT NULL,
  schema_version  INTEGER NOT NULL,
  state           TEXT    NOT NULL,
  taken_at        TEXT    NOT NULL
) WITHOUT ROWID;
`;

function fromRow(row: EventRow): AnyEventEnvelope {
  return readEnvelope({
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: row.position,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    actor: row.actor === null ? null : (JSON.parse(row.actor) as Actor),
    metadata: JSON.parse(row.metadata) as EventMetadata,
    payload: JSON.parse(row.payload) as unknown,
  });
}

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly insertStmt: Database.Statement<InsertParams>;
  private readonly versionStmt: Database.Statement<[string], { v: number }>;
  private readonly identitiesStmt: Database.Statement<[string], { id: string; stream_id: string; type: string }>;
  /** The same for one id (most appends supplying ids supply one): a point lookup, not a json_each join. */
  private readonly identityStmt: Database.Statement<[string], { id: string; stream_id: string; type: string }>;
  private readonly byIdsStmt: Database.Statement<[string], EventRow>;
  private readonly streamStmt: Database.Statement<[string, number], EventRow>;
  private readonly headStmt: Database.Statement<[], { p: number }>;
  /** Appends of one event-loop turn share a transaction (platform/sqlite.ts). */
  private readonly writes: SqliteGroupCommit;
  /** Checkpoints the WAL off the event loop (null for ':memory:', or with `checkpoints: false`). */
  private readonly checkpointer: SqliteCheckpointer | null;
  private readonly saveSnapshotStmt: Database.Statement<[string, number, number, string, string]>;
  private readonly loadSnapshotStmt: Database.Statement<[string], SnapshotRow>;
  /** readAll statements by filter shape (which of from / to / types are set). */
  private readonly pageStmts = new Map<string, Database.Statement<(string | number)[], EventRow>>();
  private readonly appendTx: Database.Transaction<
    (streamId: string, prepared: readonly PreparedEvent[], expected: ExpectedVersion) => { result: AppendResult; rows: InsertedRow[] }
  >;
  /** This connection's latest committed appends, for the reads of the log's tail. */
  private readonly recent: RecentEvents<EventRow>;
  /**
   * The highest position known to be committed: from this connection's appends and its head queries.
   * Positions only grow (nothing is deleted), so a read bounded at or below it needs no head query of
   * its own: a follower reading up to the head it has just taken costs one MAX query, not two.
   */
  private knownHead = 0;

  constructor(options: SqliteEventStoreOptions) {
    this.clock = options.clock ?? systemClock;
    // Several processes (gateway, subgraphs, workers) may share the file.
    this.db = openSqlite(options.file, options.synchronous ? { synchronous: options.synchronous } : {});
    this.db.exec(SCHEMA);
    this.checkpointer = options.checkpoints === false ? null : SqliteCheckpointer.start(options.file, { onFailure: () => checkpointOnOwn(this.db) });

    // Statements are prepared once: an append then costs a few B-tree steps and no SQL parsing.
    this.insertStmt = this.db.prepare(
      `INSERT INTO events (id, stream_id, stream_version, type, schema_version, occurred_at, recorded_at,
         correlation_id, causation_id, actor, metadata, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.versionStmt = this.db.prepare(`SELECT COALESCE(MAX(stream_version), 0) AS v FROM events WHERE stream_id = ?`);
    this.identitiesStmt = this.db.prepare(`SELECT id, stream_id, type FROM events WHERE id IN (SELECT value FROM json_each(?))`);
    this.identityStmt = this.db.prepare(`SELECT id, stream_id, type FROM events WHERE id = ?`);
    this.byIdsStmt = this.db.prepare(`SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY stream_version`);
    this.streamStmt = this.db.prepare(`SELECT * FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version`);
    this.headStmt = this.db.prepare(`SELECT COALESCE(MAX(position), 0) AS p FROM events`);
    this.saveSnapshotStmt = this.db.prepare(
      `INSERT INTO snapshots (stream_id, version, schema_version, state, taken_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(stream_id) DO UPDATE SET version = excluded.version, schema_version = excluded.schema_version,
         state = excluded.state, taken_at = excluded.taken_at
       WHERE excluded.version >= snapshots.version`,
    );
    this.loadSnapshotStmt = this.db.prepare(`SELECT * FROM snapshots WHERE stream_id = ?`);
    this.writes = new SqliteGroupCommit(this.db, { minIntervalMs: options.commitIntervalMs ?? EVENT_COMMIT_INTERVAL_MS });
    this.recent = new RecentEvents(options.recentEvents ?? RECENT_EVENTS, fromRow);
    this.appendTx = this.db.transaction((streamId, prepared, expected) => this.appendInTransaction(streamId, prepared, expected));
  }

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    checkStreamId(streamId);
    const prepared = prepareEvents(events, options.context, this.clock);
    // The group's IMMEDIATE transaction holds the write lock before the stream version is read:
    // another process cannot slip an append in between the check and the insert. A failed append
    // (a concurrency conflict) rolls back its own savepoint only.
    const { result, rows } = await this.writes.write(() => this.appendTx(streamId, prepared, options.expectedVersion));
    // Committed now: the followers may read these from memory.
    this.recent.add(rows);
    const last = rows[rows.length - 1];
    if (last && last.position > this.knownHead) this.knownHead = last.position;
    return result;
  }

  private appendInTransaction(
    streamId: string,
    prepared: readonly PreparedEvent[],
    expected: ExpectedVersion,
  ): { result: AppendResult; rows: InsertedRow[] } {
    const supplied = prepared.filter((p) => p.idSupplied).map((p) => p.id);
    if (supplied.length > 0) {
      const ids = JSON.stringify(supplied);
      const rows = supplied.length === 1 ? this.identityStmt.all(supplied[0] as string) : this.identitiesStmt.all(ids);
      const stored: StoredIdentity[] = rows.map((r) => ({ id: r.id, streamId: r.stream_id, type: r.type }));
      if (classifyStoredIds(streamId, prepared, stored) === 'replay') {
        const events = this.byIdsStmt.all(ids).map(fromRow);
        return { result: { nextExpectedVersion: events[events.length - 1]?.streamVersion ?? 0, events }, rows: [] };
      }
    }
    const current = this.versionStmt.get(streamId)?.v ?? 0;
    checkExpectedVersion(streamId, expected, current);
    const rows: InsertedRow[] = [];
    const events = prepared.map((p, i) => {
      const row: EventRow = {
        position: 0,
        id: p.id,
        stream_id: streamId,
        stream_version: current + i + 1,
        type: p.type,
        schema_version: p.schemaVersion,
        occurred_at: p.occurredAt,
        recorded_at: p.recordedAt,
        correlation_id: p.correlationId,
        causation_id: p.causationId,
        actor: p.actor === null ? null : JSON.stringify(p.actor),
        metadata: JSON.stringify(p.metadata),
        payload: JSON.stringify(p.payload),
      };
      const info = this.insertStmt.run(
        row.id,
        row.stream_id,
        row.stream_version,
        row.type,
        row.schema_version,
        row.occurred_at,
        row.recorded_at,
        row.correlation_id,
        row.causation_id,
        row.actor,
        row.metadata,
        row.payload,
      );
      row.position = Number(info.lastInsertRowid);
      rows.push({ position: row.position, row });
      return toEnvelope(p, streamId, row.stream_version, row.position);
    });
    return { result: { nextExpectedVersion: current + prepared.length, events }, rows };
  }

  async readStream(streamId: string, fromVersion = 1): Promise<AnyEventEnvelope[]> {
    return this.streamStmt.all(streamId, fromVersion).map(fromRow);
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.versionStmt.get(streamId)?.v ?? 0;
  }

  async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    const read = resolveReadAll(options);
    // Everything committed is settled here (see the header); bound the read by the head at its start.
    const head = read.until <= this.knownHead ? read.until : Math.min(this.queryHead(), read.until);
    if (read.from === null && read.to === null) {
      // The tail of the log, when this connection appended all of it (recent-events.ts).
      const types = read.types === null ? null : new Set<string>(read.types);
      const recent = this.recent.range(read.after, head, (event) => types === null || types.has(event.type));
      if (recent !== null) {
        for (let i = 0; i < recent.length; i += read.batchSize) yield recent.slice(i, i + read.batchSize);
        return;
      }
    }
    const stmt = this.pageStatement(read);
    let after = read.after;
    while (after < head) {
      const params: (string | number)[] = [after, head];
      if (read.from !== null) params.push(read.from);
      if (read.to !== null) params.push(read.to);
      if (read.types !== null) params.push(JSON.stringify(read.types));
      params.push(read.batchSize);
      const rows = stmt.all(...params);
      const last = rows[rows.length - 1];
      if (!last) return;
      after = last.position;
      yield rows.map(fromRow);
      if (rows.length < read.batchSize) return;
    }
  }

  private pageStatement(read: ResolvedReadAll): Database.Statement<(string | number)[], EventRow> {
    const key = `${read.from !== null}|${read.to !== null}|${read.types !== null}`;
    let stmt = this.pageStmts.get(key);
    if (!stmt) {
      const where = ['position > ?', 'position <= ?'];
      if (read.from !== null) where.push('recorded_at >= ?');
      if (read.to !== null) where.push('recorded_at < ?');
      if (read.types !== null) where.push('type IN (SELECT value FROM json_each(?))');
      stmt = this.db.prepare<(string | number)[], EventRow>(
        `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`,
      );
      this.pageStmts.set(key, stmt);
    }
    return stmt;
  }

  async headPosition(): Promise<number> {
    return this.queryHead();
  }

  private queryHead(): number {
    const head = this.headStmt.get()?.p ?? 0;
    if (head > this.knownHead) this.knownHead = head;
    return head;
  }

  async saveSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    checkSnapshot(snapshot);
    const state = JSON.stringify(snapshot.state);
    await this.writes.write(() => this.saveSnapshotStmt.run(snapshot.streamId, snapshot.version, snapshot.schemaVersion, state, snapshot.takenAt));
  }

  async loadSnapshot<S>(streamId: string): Promise<Snapshot<S> | null> {
    const row = this.loadSnapshotStmt.get(streamId);
    if (!row) return null;
    return {
      streamId: row.stream_id,
      version: row.version,
      schemaVersion: row.schema_version,
      state: JSON.parse(row.state) as S,
      takenAt: row.taken_at,
    };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.checkpointer?.stop();
    if (!this.db.open) return;
    this.writes.flush(true);
    this.recent.clear();
    this.db.close();
  }
}
