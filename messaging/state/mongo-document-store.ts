// MongoDB DocumentStore (official driver 6): one collection per name, `_id` = id, indexes created on
// first use. Works on a replica set or a standalone mongod 6+: single-document operations only, no
// transactions. It runs on the process's shared MongoConnection (platform/mongodb.ts); an outage
// reaches callers as UNAVAILABLE, a unique clash as CONFLICT naming the field.
import { randomUUID } from 'node:crypto';
import type { Collection, Db, Filter, Sort } from 'mongodb';
import { DomainError } from '../../platform/errors';
import { codedMongoError, duplicateKeyOf, mongoCall, MongoConnection } from '../../platform/mongodb';
import type { CollectionOptions, Cursor, Doc, DocumentCollection, DocumentStore, FindQuery, Where } from './document-store';
import {
  checkCollectionName,
  checkDocument,
  checkField,
  checkQuery,
  checkWhere,
  escapeRegExp,
  isRange,
  jsonCopy,
  uniqueConflict,
  type CheckedCondition,
} from './document-rules';

/**
 * How a document is stored: the id as `_id`, and `_rev`, a random token replaced on every write,
 * which `update` compares to detect a concurrent writer (compare-and-swap without transactions).
 */
interface Stored {
  _id: string;
  _rev?: string;
  [field: string]: unknown;
}

/** Compare-and-swap rounds before `update` gives up under extreme contention. */
const MAX_UPDATE_ATTEMPTS = 100;

function mongoField(field: string): string {
  return field === 'id' ? '_id' : field;
}

function toStored(doc: Doc): Stored {
  // Through JSON first, so MongoDB stores exactly what SQLite would (no Dates, no undefined-as-null).
  const { id, ...rest } = jsonCopy(doc) as Doc & Record<string, unknown>;
  return { _id: id, ...rest, _rev: randomUUID() };
}

function fromStored<T extends Doc>(stored: Stored): T {
  const { _id, _rev, ...rest } = stored;
  void _rev;
  return { id: _id, ...rest } as unknown as T;
}

function whereFilter(where: readonly [string, CheckedCondition][]): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  // `{ field: null }` matches null and missing, like the other adapters. A range's comparison
  // operators match values of their bounds' BSON type only (type bracketing), as the others do.
  for (const [field, value] of where) {
    filter[mongoField(field)] = isRange(value) ? Object.fromEntries(value.bounds.map(([operator, bound]) => [`$${operator}`, bound])) : value;
  }
  return filter;
}

/**
 * Documents strictly after `cursor` in the order (field, _id), ascending with null/missing first or
 * descending with them last (the reverse); `before` is `after` in the opposite direction.
 */
function keysetFilter(f: string, descending: boolean, cursor: Cursor): Record<string, unknown> {
  const { value, id } = cursor;
  if (f === '_id') return { _id: { [descending ? '$lt' : '$gt']: id } };
  if (!descending) {
    return value === null
      ? { $or: [{ [f]: { $ne: null } }, { [f]: null, _id: { $gt: id } }] }
      : { $or: [{ [f]: { $gt: value } }, { [f]: value, _id: { $gt: id } }] };
  }
  return value === null ? { [f]: null, _id: { $lt: id } } : { $or: [{ [f]: { $lt: value } }, { [f]: null }, { [f]: value, _id: { $lt: id } }] };
}

/** dropIndex's answer when there is nothing to drop: IndexNotFound (27) or NamespaceNotFound (26). */
function isMissingIndex(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 27 || code === 26;
}

/**
 * The field a duplicate-key error is about (`_id` for the id), from keyPattern or, failing that, the
 * index name (`ux_<field>`); null when it is not a duplicate key or names neither.
 */
function duplicateField(error: unknown): string | null {
  const duplicate = duplicateKeyOf(error);
  if (!duplicate) return null;
  const first = duplicate.fields[0];
  if (first) return first;
  if (duplicate.index === '_id_') return '_id';
  return duplicate.index?.startsWith('ux_') ? duplicate.index.slice(3) : null;
}

const isDuplicateKey = (error: unknown): boolean => duplicateKeyOf(error) !== null;

class MongoCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly unique = new Set<string>();
  private readonly pendingIndexes: { field: string; kind: 'index' | 'unique' | 'drop' }[] = [];
  private indexing: Promise<void> | null = null;

  constructor(
    private readonly coll: Collection<Stored>,
    readonly name: string,
  ) {}

  /** Fields whose (non-unique) index is asked for already: `collection()` is called per use, and
   * without this every call queued another createIndexes round trip before the next operation. */
  private readonly indexed = new Set<string>();
  /** Fields whose index from an earlier version is dropped already, or queued to be (retiredIndexes). */
  private readonly retired = new Set<string>();

  addOptions(options: CollectionOptions<T>): void {
    // A sparse index is a full one here (see CollectionOptions.sparseIndexes).
    for (const field of [...(options.indexes ?? []), ...(options.sparseIndexes ?? [])]) {
      if (this.indexed.has(field)) continue;
      checkField(this.name, field);
      this.indexed.add(field);
      if (field !== 'id') this.pendingIndexes.push({ field, kind: 'index' });
    }
    for (const field of options.unique ?? []) {
      if (this.unique.has(field)) continue;
      checkField(this.name, field);
      this.unique.add(field);
      if (field !== 'id') this.pendingIndexes.push({ field, kind: 'unique' });
    }
    for (const field of options.retiredIndexes ?? []) {
      if (this.indexed.has(field) || this.retired.has(field)) continue;
      checkField(this.name, field);
      this.retired.add(field);
      if (field !== 'id') this.pendingIndexes.push({ field, kind: 'drop' });
    }
  }

  get(id: string): Promise<T | null> {
    return mongoCall(async () => {
      await this.ready();
      const stored = await this.coll.findOne({ _id: id });
      return stored ? fromStored<T>(stored) : null;
    });
  }

  getMany(ids: readonly string[]): Promise<T[]> {
    return mongoCall(async () => {
      await this.ready();
      const wanted = [...new Set(ids)];
      if (wanted.length === 0) return [];
      const byId = new Map<string, T>();
      for (const stored of await this.coll.find({ _id: { $in: wanted } }).toArray()) byId.set(stored._id, fromStored<T>(stored));
      return wanted.flatMap((id) => {
        const doc = byId.get(id);
        return doc ? [doc] : [];
      });
    });
  }

  async put(doc: T): Promise<void> {
    checkDocument(this.name, doc, this.unique);
    await mongoCall(() => this.ready());
    for (let attempt = 1; ; attempt++) {
      try {
        await this.coll.replaceOne({ _id: doc.id }, toStored(doc), { upsert: true });
        return;
      } catch (error) {
        // Two upserts of a new id can race on `_id`; the loser retries as a replace.
        if (duplicateField(error) === '_id' && attempt < 3) continue;
        throw this.translate(error, doc);
      }
    }
  }

  async insert(doc: T): Promise<boolean> {
    checkDocument(this.name, doc, this.unique);
    await mongoCall(() => this.ready());
    try {
      await this.coll.insertOne(toStored(doc));
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw codedMongoError(error);
      // An existing id wins over a unique clash: insert-if-absent reports "already there".
      if (duplicateField(error) === '_id' || (await mongoCall(() => this.coll.countDocuments({ _id: doc.id }, { limit: 1 }))) > 0) return false;
      throw this.translate(error, doc);
    }
  }

  update(id: string, change: (current: T | null) => T | null): Promise<T | null> {
    return mongoCall(() => this.compareAndSwap(id, change));
  }

  private async compareAndSwap(id: string, change: (current: T | null) => T | null): Promise<T | null> {
    await this.ready();
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const stored = await this.coll.findOne({ _id: id });
      const current = stored ? fromStored<T>(stored) : null;
      const next = change(current);
      if (next === null) return current;
      if (next.id !== id) throw new TypeError(`update(${id}): the changed document must keep its id.`);
      checkDocument(this.name, next, this.unique);
      const replacement = toStored(next);
      try {
        if (!stored) {
          await this.coll.insertOne(replacement);
          return fromStored<T>(replacement);
        }
        // A document written without `_rev` (by hand) has none: `$exists: false` matches it.
        const revision = stored._rev === undefined ? { _rev: { $exists: false } } : { _rev: stored._rev };
        const result = await this.coll.replaceOne({ _id: id, ...revision }, replacement);
        if (result.matchedCount === 1) return fromStored<T>(replacement);
      } catch (error) {
        if (duplicateField(error) !== '_id') throw this.translate(error, next);
      }
      // Another writer got in between: read again and re-apply the change.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    throw new DomainError('UNAVAILABLE', `update of "${this.name}/${id}" kept colliding with other writers: try again.`, {
      collection: this.name,
      id,
    });
  }

  delete(id: string): Promise<boolean> {
    return mongoCall(async () => {
      await this.ready();
      return (await this.coll.deleteOne({ _id: id })).deletedCount === 1;
    });
  }

  find(query?: FindQuery<T>): Promise<T[]> {
    const q = checkQuery(this.name, query);
    return mongoCall(() => this.findChecked(q));
  }

  private async findChecked(q: ReturnType<typeof checkQuery<T>>): Promise<T[]> {
    await this.ready();
    if (q.limit === 0) return []; // MongoDB reads limit 0 as "no limit".
    const and: Record<string, unknown>[] = [];
    if (q.where.length) and.push(whereFilter(q.where));
    if (q.prefix) {
      and.push({ [mongoField(q.prefix.field)]: { $regex: `^${escapeRegExp(q.prefix.value)}`, $options: 'i' } });
    }
    const f = mongoField(q.orderField);
    if (q.after) and.push(keysetFilter(f, q.descending, q.after));
    if (q.before) and.push(keysetFilter(f, !q.descending, q.before));
    const filter = (and.length === 0 ? {} : and.length === 1 ? and[0] : { $and: and }) as Filter<Stored>;
    const direction = q.descending ? -1 : 1;
    const sort: Sort = f === '_id' ? { _id: direction } : { [f]: direction, _id: direction };
    let cursor = this.coll.find(filter).sort(sort);
    if (q.limit !== null) cursor = cursor.limit(q.limit);
    return (await cursor.toArray()).map((stored) => fromStored<T>(stored));
  }

  count(where?: Where<T>): Promise<number> {
    const filter = whereFilter(checkWhere(this.name, where)) as Filter<Stored>;
    return mongoCall(async () => {
      await this.ready();
      return this.coll.countDocuments(filter);
    });
  }

  clear(): Promise<void> {
    return mongoCall(async () => {
      await this.ready();
      await this.coll.deleteMany({});
    });
  }

  /** Create declared indexes (and drop retired ones) once; a failure is reported to the caller and retried on the next call. */
  private ready(): Promise<void> {
    if (this.pendingIndexes.length === 0) return this.indexing ?? Promise.resolve();
    const batch = this.pendingIndexes.splice(0);
    const previous = this.indexing ?? Promise.resolve();
    const run = previous.then(() => this.applyIndexes(batch));
    this.indexing = run.catch((error: unknown) => {
      this.pendingIndexes.unshift(...batch);
      this.indexing = null;
      throw error;
    });
    return this.indexing;
  }

  private async applyIndexes(batch: readonly { field: string; kind: 'index' | 'unique' | 'drop' }[]): Promise<void> {
    const created = batch.filter((entry) => entry.kind !== 'drop');
    try {
      if (created.length > 0) {
        await this.coll.createIndexes(
          created.map(({ field, kind }) =>
            kind === 'unique'
              ? // Partial on strings: documents without the field (or null) do not collide.
                { key: { [field]: 1 }, name: `ux_${field}`, unique: true, partialFilterExpression: { [field]: { $type: 'string' } } }
              : { key: { [field]: 1, _id: 1 }, name: `ix_${field}` },
          ),
        );
      }
    } catch (error) {
      // Stored documents already break a unique index asked for now.
      const field = duplicateField(error);
      if (field) throw uniqueConflict(this.name, field, null);
      throw error;
    }
    for (const { field } of batch.filter((entry) => entry.kind === 'drop')) {
      try {
        await this.coll.dropIndex(`ix_${field}`);
      } catch (error) {
        // Never made (a new deployment), or the collection itself does not exist yet.
        if (!isMissingIndex(error)) throw error;
      }
    }
  }

  /** A failed write as the caller should see it: a coded conflict, UNAVAILABLE, or (unexpected) as it is. */
  private translate(error: unknown, doc: T): unknown {
    if (!isDuplicateKey(error)) return codedMongoError(error);
    const field = duplicateField(error);
    if (field === '_id') {
      return new DomainError('UNAVAILABLE', `Writes of "${this.name}/${doc.id}" kept colliding with other writers: try again.`, {
        collection: this.name,
        id: doc.id,
      });
    }
    if (field) return uniqueConflict(this.name, field, (doc as unknown as Record<string, unknown>)[field]);
    const index = duplicateKeyOf(error)?.index ?? 'unknown';
    return new DomainError('CONFLICT', `Another document in "${this.name}" already has these values (unique index ${index}).`, {
      collection: this.name,
      index,
    });
  }
}

export type MongoDocumentStoreOptions = (
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
  /** Default: the database named in the URI, else `membership`. */
  readonly dbName?: string;
};

export class MongoDocumentStore implements DocumentStore {
  private readonly collections = new Map<string, MongoCollection<Doc>>();

  /** Use `db` (shared with other components if wanted); `connection` is closed by `close()` only when given. */
  constructor(
    private readonly db: Db,
    private readonly connection: MongoConnection | null = null,
  ) {}

  static connect(options: MongoDocumentStoreOptions): MongoDocumentStore {
    // The driver connects on the first operation; an unreachable server fails there, as UNAVAILABLE.
    if ('connection' in options) return new MongoDocumentStore(options.connection.db(options.dbName));
    const connection = new MongoConnection({ uri: options.uri, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    return new MongoDocumentStore(connection.db(options.dbName), connection);
  }

  collection<T extends Doc>(name: string, options: CollectionOptions<T> = {}): DocumentCollection<T> {
    checkCollectionName(name);
    let collection = this.collections.get(name) as MongoCollection<T> | undefined;
    if (!collection) {
      collection = new MongoCollection<T>(this.db.collection<Stored>(name), name);
      this.collections.set(name, collection as unknown as MongoCollection<Doc>);
    }
    collection.addOptions(options);
    return collection;
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}
