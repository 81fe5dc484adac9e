// An in-memory imitation of the few MongoDB collection operations the MongoDB event store uses, with
// the semantics its algorithm relies on: unique indexes refusing with code 11000 (keyPattern,
// keyValue, "index: <name> dup key"), an ordered insertMany that stores the documents before the
// refused one and stops there, upserts, and an await between documents so that concurrent writers
// interleave as they do against a server. It is NOT MongoDB: it lets the adapter's own logic (retries,
// take-backs, the settled head) run where no server is available. The real thing is
// event-store.mongo.int.test.ts with MONGODB_URI set.
import { MongoBulkWriteError, MongoServerError, type Db } from 'mongodb';
import type { MongoConnection } from '../../platform/mongodb';

type Doc = Record<string, unknown> & { _id: unknown };
type Filter = Record<string, unknown>;

/** A Date from any realm (structuredClone makes them outside jest's). */
const isDate = (value: unknown): value is Date => Object.prototype.toString.call(value) === '[object Date]';

function compare(a: unknown, b: unknown): number {
  if (isDate(a) && isDate(b)) return a.getTime() - b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function same(a: unknown, b: unknown): boolean {
  return isDate(a) && isDate(b) ? a.getTime() === b.getTime() : a === b;
}

function matches(doc: Doc, filter: Filter): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    const value = doc[field];
    if (condition !== null && typeof condition === 'object' && !isDate(condition)) {
      return Object.entries(condition as Record<string, unknown>).every(([op, operand]) => {
        switch (op) {
          case '$gt':
            return value !== undefined && compare(value, operand) > 0;
          case '$gte':
            return value !== undefined && compare(value, operand) >= 0;
          case '$lt':
            return value !== undefined && compare(value, operand) < 0;
          case '$lte':
            return value !== undefined && compare(value, operand) <= 0;
          case '$in':
            return (operand as unknown[]).some((o) => same(value, o));
          default:
            throw new Error(`imitation: operator ${op} not imitated`);
        }
      });
    }
    return same(value, condition);
  });
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const copy = <T>(value: T): T => structuredClone(value);

interface UniqueIndex {
  readonly name: string;
  readonly fields: readonly string[];
}

class Cursor {
  private order: [string, 1 | -1] | null = null;
  private max: number | null = null;

  constructor(private readonly load: () => Doc[]) {}

  sort(spec: Record<string, 1 | -1>): this {
    const [field, direction] = Object.entries(spec)[0] ?? [];
    if (field && direction) this.order = [field, direction];
    return this;
  }

  limit(n: number): this {
    this.max = n;
    return this;
  }

  async toArray(): Promise<Doc[]> {
    await turn();
    let docs = this.load();
    if (this.order) {
      const [field, direction] = this.order;
      docs = [...docs].sort((a, b) => direction * compare(a[field], b[field]));
    }
    return copy(this.max === null ? docs : docs.slice(0, this.max));
  }

  async next(): Promise<Doc | null> {
    return (await this.limit(1).toArray())[0] ?? null;
  }
}

/** Test seams: hold a writer between two documents of its insertMany. */
export interface ImitationHooks {
  afterInsert?(collection: string, doc: Readonly<Doc>): Promise<void> | void;
}

class ImitationCollection {
  private readonly docs = new Map<string, Doc>();
  private readonly unique: UniqueIndex[] = [{ name: '_id_', fields: ['_id'] }];

  constructor(
    private readonly name: string,
    private readonly hooks: ImitationHooks,
  ) {}

  async createIndexes(specs: { key: Record<string, number>; name: string; unique?: boolean }[]): Promise<string[]> {
    await turn();
    for (const spec of specs) {
      if (spec.unique && !this.unique.some((u) => u.name === spec.name)) this.unique.push({ name: spec.name, fields: Object.keys(spec.key) });
    }
    return specs.map((s) => s.name);
  }

  find(filter: Filter = {}): Cursor {
    return new Cursor(() => [...this.docs.values()].filter((d) => matches(d, filter)));
  }

  async findOne(filter: Filter): Promise<Doc | null> {
    return this.find(filter).next();
  }

  async countDocuments(filter: Filter): Promise<number> {
    return (await this.find(filter).toArray()).length;
  }

  async insertMany(docs: Doc[]): Promise<{ insertedCount: number }> {
    for (let index = 0; index < docs.length; index++) {
      await turn(); // documents go in one by one: a concurrent writer may come in between
      const clash = this.clash(docs[index]!);
      if (clash) {
        const err = { index, code: 11000, errmsg: clash.message, keyPattern: clash.keyPattern, keyValue: clash.keyValue };
        const writeError = { index, code: 11000, errmsg: clash.message, err };
        throw new MongoBulkWriteError({ message: clash.message, code: 11000, writeErrors: [writeError as never] }, {} as never);
      }
      this.store(docs[index]!);
      await this.hooks.afterInsert?.(this.name, docs[index]!);
    }
    return { insertedCount: docs.length };
  }

  async deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    await turn();
    const gone = [...this.docs.entries()].filter(([, d]) => matches(d, filter));
    for (const [key] of gone) this.docs.delete(key);
    return { deletedCount: gone.length };
  }

  async findOneAndUpdate(filter: Filter, update: Record<string, Record<string, number>>): Promise<Doc | null> {
    await turn();
    const doc = this.upsert(filter, update);
    return copy(doc);
  }

  async updateOne(filter: Filter, update: Record<string, Record<string, unknown>>, options: { upsert?: boolean } = {}): Promise<{ matchedCount: number }> {
    await turn();
    const found = [...this.docs.values()].find((d) => matches(d, filter));
    if (!found && !options.upsert) return { matchedCount: 0 };
    this.upsert(filter, update);
    return { matchedCount: found ? 1 : 0 };
  }

  async bulkWrite(ops: { updateOne: { filter: Filter; update: Record<string, Record<string, unknown>>; upsert?: boolean } }[]): Promise<void> {
    for (const op of ops) await this.updateOne(op.updateOne.filter, op.updateOne.update, { upsert: op.updateOne.upsert ?? false });
  }

  private upsert(filter: Filter, update: Record<string, Record<string, unknown>>): Doc {
    let doc = [...this.docs.values()].find((d) => matches(d, filter));
    const inserting = !doc;
    if (!doc) {
      // An upsert inserts the filter's equalities; on a unique clash MongoDB refuses it.
      const base = Object.fromEntries(Object.entries(filter).filter(([, v]) => v === null || typeof v !== 'object' || isDate(v))) as Doc;
      const clash = this.clash(base);
      if (clash) throw new MongoServerError({ message: clash.message, code: 11000, keyPattern: clash.keyPattern, keyValue: clash.keyValue });
      doc = base;
    }
    for (const [op, fields] of Object.entries(update)) {
      for (const [field, value] of Object.entries(fields)) {
        if (op === '$set' || (op === '$setOnInsert' && inserting)) doc[field] = value;
        else if (op === '$inc') doc[field] = ((doc[field] as number | undefined) ?? 0) + (value as number);
        else if (op === '$max') doc[field] = doc[field] === undefined || compare(value, doc[field]) > 0 ? value : doc[field];
        else if (op !== '$setOnInsert') throw new Error(`imitation: update ${op} not imitated`);
      }
    }
    this.store(doc);
    return doc;
  }

  private clash(doc: Doc): { message: string; keyPattern: Record<string, 1>; keyValue: Record<string, unknown> } | null {
    for (const index of this.unique) {
      const key = index.fields.map((f) => doc[f]);
      if (key.some((v) => v === undefined)) continue;
      const taken = [...this.docs.values()].some((d) => d._id !== doc._id && index.fields.every((f, i) => same(d[f], key[i])));
      const sameId = index.name === '_id_' && this.docs.has(JSON.stringify(doc._id));
      if (taken || sameId) {
        const keyValue = Object.fromEntries(index.fields.map((f, i) => [f, key[i]]));
        return {
          message: `E11000 duplicate key error collection: imitation.${this.name} index: ${index.name} dup key: ${JSON.stringify(keyValue)}`,
          keyPattern: Object.fromEntries(index.fields.map((f) => [f, 1 as const])),
          keyValue,
        };
      }
    }
    return null;
  }

  private store(doc: Doc): void {
    this.docs.set(JSON.stringify(doc._id), copy(doc));
  }
}

/** A connection whose database is the imitation (one per call: a fresh, empty deployment). */
export function imitationMongoConnection(hooks: ImitationHooks = {}): MongoConnection {
  const collections = new Map<string, ImitationCollection>();
  const db = {
    collection: (name: string) => {
      let collection = collections.get(name);
      if (!collection) collections.set(name, (collection = new ImitationCollection(name, hooks)));
      return collection;
    },
  } as unknown as Db;
  return { db: () => db, close: async () => undefined } as unknown as MongoConnection;
}
