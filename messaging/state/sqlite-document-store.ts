// SQLite DocumentStore (better-sqlite3): the embedded default. One table per collection (id primary
// key + JSON text), json_extract expression indexes for `indexes` and unique ones for `unique`; WAL.
// Writes of one event-loop turn share a transaction (platform/sqlite.ts).
import type Database from 'better-sqlite3';
import { checkpointOnOwn, openSqlite, SqliteCheckpointer, SqliteGroupCommit } from '../../platform/sqlite';
import type { CollectionOptions, Cursor, Doc, DocumentCollection, DocumentStore, FindQuery, Where } from './document-store';
import {
  checkCollectionName,
  checkDocument,
  checkField,
  checkQuery,
  checkWhere,
  isRange,
  prefixMatcher,
  uniqueConflict,
  type CheckedCondition,
  type CheckedRange,
  type CheckedQuery,
} from './document-rules';

type SqlValue = string | number | null;

/** SQL for a field's value. Written inline (field names are validated) so that queries match the expression indexes. */
function fieldExpr(field: string): string {
  return field === 'id' ? 'id' : `json_extract(doc, '$.${field}')`;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

interface SqliteError extends Error {
  code?: string;
}

const RANGE_SQL = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A range matches values of its bounds' type only (SQLite would order numbers before all text). */
function rangeSql(field: string, range: CheckedRange, params: SqlValue[]): string {
  const expr = fieldExpr(field);
  if (field === 'id' && range.type === 'number') return '0'; // ids are strings
  const typed = field === 'id' ? [] : [range.type === 'string' ? `json_type(doc, '$.${field}') = 'text'` : `json_type(doc, '$.${field}') IN ('integer', 'real')`];
  const bounds = range.bounds.map(([operator, bound]) => {
    params.push(bound);
    return `${expr} ${RANGE_SQL[operator]} ?`;
  });
  return [...typed, ...bounds].join(' AND ');
}

/**
 * Documents strictly after `cursor` in the order (field, id), ascending with nulls first or
 * descending with nulls last (the reverse); `before` is `after` in the opposite direction.
 */
function keysetSql(orderField: string, descending: boolean, cursor: Cursor, params: SqlValue[]): string {
  const order = fieldExpr(orderField);
  const { value, id } = cursor;
  if (orderField === 'id') {
    params.push(id);
    return descending ? 'id < ?' : 'id > ?';
  }
  if (!descending) {
    if (value === null) {
      params.push(id);
      return `(${order} IS NOT NULL OR id > ?)`;
    }
    params.push(value, value, id);
    return `(${order} > ? OR (${order} = ? AND id > ?))`;
  }
  if (value === null) {
    params.push(id);
    return `(${order} IS NULL AND id < ?)`;
  }
  params.push(value, value, id);
  return `(${order} < ? OR ${order} IS NULL OR (${order} = ? AND id < ?))`;
}

function whereSql(where: readonly [string, CheckedCondition][], params: SqlValue[]): string[] {
  const clauses: string[] = [];
  for (const [field, value] of where) {
    const expr = fieldExpr(field);
    if (isRange(value)) {
      clauses.push(rangeSql(field, value, params));
    } else if (value === null) {
      clauses.push(`${expr} IS NULL`);
    } else if (typeof value === 'boolean') {
      // JSON booleans come out of json_extract as 1/0; json_type keeps `true` apart from the number 1.
      clauses.push(`${expr} = ? AND json_type(doc, '$.${field}') = ?`);
      params.push(value ? 1 : 0, value ? 'true' : 'false');
    } else if (typeof value === 'number' && field !== 'id') {
      clauses.push(`${expr} = ? AND json_type(doc, '$.${field}') IN ('integer', 'real')`);
      params.push(value);
    } else {
      clauses.push(`${expr} = ?`);
      params.push(value);
    }
  }
  return clauses;
}

class SqliteCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly table: string;
  private readonly unique = new Set<string>();
  /** Unique index name -> field, to name the field in a CONFLICT. */
  private readonly uniqueIndexField = new Map<string, string>();
  private readonly getStmt: Database.Statement<[string], { doc: string }>;
  private readonly getManyStmt: Database.Statement<[string], { doc: string }>;
  private readonly upsertStmt: Database.Statement<[string, string]>;
  private readonly insertStmt: Database.Statement<[string, string]>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly existsStmt: Database.Statement<[string], { one: number }>;
  private readonly statements = new Map<string, Database.Statement<SqlValue[], unknown>>();

  constructor(
    private readonly db: Database.Database,
    private readonly writes: SqliteGroupCommit,
    readonly name: string,
  ) {
    this.table = `doc_${name}`;
    const t = quote(this.table);
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`);
    this.getStmt = db.prepare(`SELECT doc FROM ${t} WHERE id = ?`);
    this.getManyStmt = db.prepare(`SELECT doc FROM ${t} WHERE id IN (SELECT value FROM json_each(?))`);
    this.upsertStmt = db.prepare(`INSERT INTO ${t} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`);
    this.insertStmt = db.prepare(`INSERT INTO ${t} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`);
    this.deleteStmt = db.prepare(`DELETE FROM ${t} WHERE id = ?`);
    this.existsStmt = db.prepare(`SELECT 1 AS one FROM ${t} WHERE id = ?`);
    // A reopened file already has its unique indexes: learn them so conflicts name their field.
    const existing = db
      .prepare<[string], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`)
      .all(this.table);
    for (const { name: index } of existing) {
      const field = this.uniqueFieldOf(index);
      if (field) {
        this.uniqueIndexField.set(index, field);
        this.unique.add(field);
      }
    }
  }

  private uniqueFieldOf(index: string): string | null {
    const marker = `${this.table}__ux__`;
    return index.startsWith(marker) ? index.slice(marker.length) : null;
  }

  /** Fields whose index this collection has created (or found): `collection()` is called per use. */
  private readonly indexed = new Set<string>();
  /** Fields whose sparse index (only documents holding a value) this collection has created. */
  private readonly sparselyIndexed = new Set<string>();
  /** Fields whose index from an earlier version this collection has dropped (retiredIndexes). */
  private readonly retired = new Set<string>();

  /** Drop the (full) index `indexes` made of a field, if there is one. */
  private dropFullIndex(field: string): void {
    this.db.exec(`DROP INDEX IF EXISTS ${quote(`${this.table}__ix__${field}`)}`);
  }

  addOptions(options: CollectionOptions<T>): void {
    const t = quote(this.table);
    for (const field of options.indexes ?? []) {
      if (this.indexed.has(field)) continue;
      checkField(this.name, field);
      // (value, id) serves equality and the keyset order (value, id) of find.
      if (field !== 'id') this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${this.table}__ix__${field}`)} ON ${t} (${fieldExpr(field)}, id)`);
      this.indexed.add(field);
    }
    for (const field of options.sparseIndexes ?? []) {
      if (this.indexed.has(field) || this.sparselyIndexed.has(field)) continue;
      checkField(this.name, field);
      if (field === 'id') continue;
      const expr = fieldExpr(field);
      // (value, id) of the documents holding a value: SQLite uses it for any comparison with the
      // field (which implies IS NOT NULL), never for a lookup of null.
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${this.table}__sx__${field}`)} ON ${t} (${expr}, id) WHERE ${expr} IS NOT NULL`);
      // A full index of the field from an earlier version is dropped: every write paid for it.
      this.dropFullIndex(field);
      this.sparselyIndexed.add(field);
    }
    for (const field of options.retiredIndexes ?? []) {
      if (this.indexed.has(field) || this.sparselyIndexed.has(field) || this.retired.has(field)) continue;
      checkField(this.name, field);
      this.dropFullIndex(field);
      this.retired.add(field);
    }
    for (const field of options.unique ?? []) {
      if (this.unique.has(field)) continue;
      checkField(this.name, field);
      const index = `${this.table}__ux__${field}`;
      this.uniqueIndexField.set(index, field);
      if (field !== 'id') {
        try {
          this.db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${quote(index)} ON ${t} (${fieldExpr(field)})`);
        } catch (error) {
          throw this.translate(error);
        }
      }
      this.unique.add(field);
    }
  }

  async get(id: string): Promise<T | null> {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  async getMany(ids: readonly string[]): Promise<T[]> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return [];
    if (wanted.length === 1) {
      // A point lookup: the json_each join costs several times more for a single id.
      const row = this.getStmt.get(wanted[0] as string);
      return row ? [JSON.parse(row.doc) as T] : [];
    }
    const byId = new Map<string, T>();
    for (const row of this.getManyStmt.all(JSON.stringify(wanted))) {
      const doc = JSON.parse(row.doc) as T;
      byId.set(doc.id, doc);
    }
    return wanted.flatMap((id) => {
      const doc = byId.get(id);
      return doc ? [doc] : [];
    });
  }

  async put(doc: T): Promise<void> {
    checkDocument(this.name, doc, this.unique);
    const json = JSON.stringify(doc);
    return this.writes.write(() => this.upsert(doc, json));
  }

  async insert(doc: T): Promise<boolean> {
    checkDocument(this.name, doc, this.unique);
    const json = JSON.stringify(doc);
    return this.writes.write(() => {
      try {
        return this.insertStmt.run(doc.id, json).changes === 1;
      } catch (error) {
        // An existing id wins over a unique clash: insert-if-absent reports "already there".
        if (this.existsStmt.get(doc.id)) return false;
        throw this.translate(error, doc);
      }
    });
  }

  async update(id: string, change: (current: T | null) => T | null): Promise<T | null> {
    // Runs inside the group's IMMEDIATE transaction: the write lock is held, so the read and the
    // write are atomic against other processes. No savepoint is needed: the one statement that
    // writes comes last, and a failing statement is undone alone.
    return this.writes.write((): T | null => {
      const row = this.getStmt.get(id);
      const current = row ? (JSON.parse(row.doc) as T) : null;
      const next = change(current);
      if (next === null) return current;
      if (next.id !== id) throw new TypeError(`update(${id}): the changed document must keep its id.`);
      checkDocument(this.name, next, this.unique);
      const json = JSON.stringify(next);
      this.upsert(next, json);
      return JSON.parse(json) as T;
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.writes.write(() => this.deleteStmt.run(id).changes === 1);
  }

  async find(query?: FindQuery<T>): Promise<T[]> {
    const params: SqlValue[] = [];
    const sql = this.findSql(checkQuery(this.name, query), params);
    const rows = this.prepared<{ doc: string }>(sql).all(...params);
    return rows.map((row) => JSON.parse(row.doc) as T);
  }

  /**
   * Several finds in one call. The first page of one list per row (the same query but for one
   * string it matches on: each member's certifications) is one statement, ranked per value with a
   * window function, so SQLite sorts once; anything else runs the finds' statements back to back
   * (one UNION ALL statement of them measured 2.5 times slower than that).
   */
  async findMany(queries: readonly FindQuery<T>[]): Promise<T[][]> {
    const checked = queries.map((query) => checkQuery(this.name, query));
    const perValue = this.perValuePages(checked);
    if (perValue) return perValue;
    return checked.map((q) => {
      const params: SqlValue[] = [];
      const sql = this.findSql(q, params);
      return this.prepared<{ doc: string }>(sql)
        .all(...params)
        .map((row) => JSON.parse(row.doc) as T);
    });
  }

  /** `perValuePages` for queries that are one page shape over several values of one string field; null otherwise. */
  private perValuePages(queries: readonly CheckedQuery[]): T[][] | null {
    const first = queries[0];
    if (queries.length < 2 || !first || first.prefix || first.after || first.before || first.limit === null) return null;
    // The one field whose (string) value differs between the queries; every other condition equal.
    const fields = first.where.map(([field]) => field);
    const varying = fields.filter((field, i) => queries.some((q) => q.where[i]?.[0] !== field || q.where[i]?.[1] !== first.where[i]?.[1]));
    if (varying.length !== 1) return null;
    const key = varying[0] as string;
    const keyIndex = fields.indexOf(key);
    const same = (q: CheckedQuery) =>
      !q.prefix && !q.after && !q.before && q.limit === first.limit && q.orderField === first.orderField && q.descending === first.descending &&
      q.where.length === first.where.length && typeof q.where[keyIndex]?.[1] === 'string' &&
      q.where.every(([field, value], i) => field === fields[i] && (i === keyIndex || value === first.where[i]?.[1]));
    if (!queries.every(same)) return null;
    const values = queries.map((q) => q.where[keyIndex]?.[1] as string);
    const params: SqlValue[] = [JSON.stringify([...new Set(values)])];
    const others = whereSql(first.where.filter(([field]) => field !== key), params);
    const direction = first.descending ? 'DESC' : 'ASC';
    const order = first.orderField === 'id' ? `id ${direction}` : `${fieldExpr(first.orderField)} ${direction}, id ${direction}`;
    const k = fieldExpr(key);
    params.push(first.limit);
    const sql =
      `SELECT k, doc FROM (SELECT ${k} AS k, doc, ROW_NUMBER() OVER (PARTITION BY ${k} ORDER BY ${order}) AS rn ` +
      `FROM ${quote(this.table)} WHERE ${[`${k} IN (SELECT value FROM json_each(?))`, ...others].join(' AND ')}) ` +
      `WHERE rn <= ? ORDER BY k, rn`;
    const byValue = new Map<string, T[]>();
    for (const row of this.prepared<{ k: string; doc: string }>(sql).all(...params)) {
      const list = byValue.get(row.k);
      const doc = JSON.parse(row.doc) as T;
      if (list) list.push(doc);
      else byValue.set(row.k, [doc]);
    }
    // A value asked twice gets its own copy, as two finds would give.
    return values.map((value, i) => {
      const docs = byValue.get(value) ?? [];
      return values.indexOf(value) === i ? docs : docs.map((doc) => JSON.parse(JSON.stringify(doc)) as T);
    });
  }

  private findSql(q: CheckedQuery, params: SqlValue[]): string {
    const clauses = whereSql(q.where, params);
    if (q.prefix) {
      clauses.push(`doc_ci_prefix(${fieldExpr(q.prefix.field)}, ?)`);
      params.push(q.prefix.value);
    }
    const order = fieldExpr(q.orderField);
    if (q.after) clauses.push(keysetSql(q.orderField, q.descending, q.after, params));
    if (q.before) clauses.push(keysetSql(q.orderField, !q.descending, q.before, params));
    const direction = q.descending ? 'DESC' : 'ASC';
    let sql = `SELECT doc FROM ${quote(this.table)}`;
    if (clauses.length) sql += ` WHERE ${clauses.join(' AND ')}`;
    sql += q.orderField === 'id' ? ` ORDER BY id ${direction}` : ` ORDER BY ${order} ${direction}, id ${direction}`;
    if (q.limit !== null) {
      sql += ' LIMIT ?';
      params.push(q.limit);
    }
    return sql;
  }

  async count(where?: Where<T>): Promise<number> {
    const params: SqlValue[] = [];
    const clauses = whereSql(checkWhere(this.name, where), params);
    let sql = `SELECT count(*) AS n FROM ${quote(this.table)}`;
    if (clauses.length) sql += ` WHERE ${clauses.join(' AND ')}`;
    const row = this.prepared<{ n: number }>(sql).get(...params);
    return row?.n ?? 0;
  }

  async clear(): Promise<void> {
    return this.writes.write(() => {
      this.db.exec(`DELETE FROM ${quote(this.table)}`);
    });
  }

  /** Queries are built from a few shapes; reuse their compiled statements. */
  private prepared<R>(sql: string): Database.Statement<SqlValue[], R> {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 200) this.statements.clear();
      statement = this.db.prepare<SqlValue[], unknown>(sql);
      this.statements.set(sql, statement);
    }
    return statement as Database.Statement<SqlValue[], R>;
  }

  private upsert(doc: T, json: string): void {
    try {
      this.upsertStmt.run(doc.id, json);
    } catch (error) {
      throw this.translate(error, doc);
    }
  }

  private translate(error: unknown, doc?: T): unknown {
    const e = error as SqliteError;
    if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE') {
      // "UNIQUE constraint failed: index 'doc_members__ux__email'"
      const index = /index '([^']+)'/.exec(e.message)?.[1];
      const field = index ? (this.uniqueIndexField.get(index) ?? this.uniqueFieldOf(index)) : undefined;
      if (field) return uniqueConflict(this.name, field, doc ? (doc as unknown as Record<string, unknown>)[field] : null);
    }
    return error;
  }
}

/**
 * The shortest time between two commits of the document store (SqliteGroupCommit's pacing). Its
 * writes are mostly the work behind events (consumers' records and markers, projections, checkpoints),
 * several per event, each commit rewriting the same hot pages (the markers' time index, the
 * documents that count or checkpoint): at 200 mutations/s it committed 300-400 times a second
 * unpaced. Paced to one commit per 5 ms it wrote about a quarter fewer WAL pages for the same work;
 * per 10 ms, another quarter fewer (about 22 pages per mutation instead of 29), so the WAL fills
 * and is restarted (the write lock held meanwhile) less often, and the product's process used
 * about 9 % less CPU, with no change in the mutations' round trip or the subscription latency
 * (BENCHMARKS.md, issue 19). A write issued within 10 ms of a commit of several writes waits for
 * the rest of them; when the store is quiet, or one writer awaits each of its writes in turn (a
 * rebuild, a prune), none waits.
 */
export const DOCUMENT_COMMIT_INTERVAL_MS = 10;

export interface SqliteDocumentStoreOptions {
  /** Database file (its directory is created), or ':memory:'. */
  readonly file: string;
  /** The shortest time between two commits (default DOCUMENT_COMMIT_INTERVAL_MS; 0: every turn's writes commit at its end). */
  readonly commitIntervalMs?: number;
  /** Checkpoint the WAL from a thread of this store's (default true; see BackendsOptions.checkpoints). */
  readonly checkpoints?: boolean;
}

export class SqliteDocumentStore implements DocumentStore {
  private readonly db: Database.Database;
  private readonly collections = new Map<string, SqliteCollection<Doc>>();
  private readonly writes: SqliteGroupCommit;
  /** Checkpoints the WAL off the event loop (null for ':memory:', or with `checkpoints: false`). */
  private readonly checkpointer: SqliteCheckpointer | null;

  constructor(options: SqliteDocumentStoreOptions) {
    // Several processes (gateway, workers) may share the file. NORMAL sync in WAL mode survives a
    // process crash; only an OS crash can lose the last commits.
    this.db = openSqlite(options.file);
    this.writes = new SqliteGroupCommit(this.db, { minIntervalMs: options.commitIntervalMs ?? DOCUMENT_COMMIT_INTERVAL_MS });
    this.checkpointer = options.checkpoints === false ? null : SqliteCheckpointer.start(options.file, { onFailure: () => checkpointOnOwn(this.db) });
    let lastPrefix = '';
    let lastMatcher = prefixMatcher('');
    this.db.function('doc_ci_prefix', { deterministic: true }, (value: unknown, prefix: unknown) => {
      if (typeof value !== 'string' || typeof prefix !== 'string') return 0;
      if (prefix !== lastPrefix) {
        lastPrefix = prefix;
        lastMatcher = prefixMatcher(prefix);
      }
      return lastMatcher.test(value) ? 1 : 0;
    });
  }

  collection<T extends Doc>(name: string, options: CollectionOptions<T> = {}): DocumentCollection<T> {
    checkCollectionName(name);
    let collection = this.collections.get(name) as SqliteCollection<T> | undefined;
    if (!collection) {
      collection = new SqliteCollection<T>(this.db, this.writes, name);
      this.collections.set(name, collection as unknown as SqliteCollection<Doc>);
    }
    collection.addOptions(options);
    return collection;
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.checkpointer?.stop();
    if (!this.db.open) return;
    this.writes.flush(true);
    this.db.close();
  }
}
