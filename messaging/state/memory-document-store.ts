// In-memory DocumentStore: the reference adapter for fast tests. Documents are copied through JSON
// on the way in and out, so callers cannot mutate stored state and see the shapes other adapters return.
import type { CollectionOptions, Doc, DocumentCollection, DocumentStore, FindQuery, Where } from './document-store';
import {
  checkCollectionName,
  checkDocument,
  checkField,
  checkQuery,
  checkWhere,
  jsonCopy,
  matchesWhere,
  runQuery,
  uniqueConflict,
} from './document-rules';

class MemoryCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly docs = new Map<string, T>();
  /** Per unique field: value -> id of the document holding it. */
  private readonly uniqueValues = new Map<string, Map<string, string>>();

  constructor(readonly name: string) {}

  addOptions(options: CollectionOptions<T>): void {
    for (const field of [...(options.indexes ?? []), ...(options.sparseIndexes ?? []), ...(options.retiredIndexes ?? [])]) checkField(this.name, field);
    for (const field of options.unique ?? []) {
      checkField(this.name, field);
      if (this.uniqueValues.has(field)) continue;
      const values = new Map<string, string>();
      for (const doc of this.docs.values()) {
        const value = this.valueOf(doc, field);
        if (value === null) continue;
        if (values.has(value)) throw uniqueConflict(this.name, field, value);
        values.set(value, doc.id);
      }
      this.uniqueValues.set(field, values);
    }
  }

  async get(id: string): Promise<T | null> {
    const doc = this.docs.get(id);
    return doc ? jsonCopy(doc) : null;
  }

  async getMany(ids: readonly string[]): Promise<T[]> {
    const found: T[] = [];
    for (const id of new Set(ids)) {
      const doc = this.docs.get(id);
      if (doc) found.push(jsonCopy(doc));
    }
    return found;
  }

  async put(doc: T): Promise<void> {
    this.write(doc);
  }

  async insert(doc: T): Promise<boolean> {
    checkDocument(this.name, doc, new Set(this.uniqueValues.keys()));
    if (this.docs.has(doc.id)) return false;
    this.write(doc);
    return true;
  }

  async update(id: string, change: (current: T | null) => T | null): Promise<T | null> {
    // Synchronous from read to write, so no other caller can interleave.
    const current = this.docs.get(id);
    const next = change(current ? jsonCopy(current) : null);
    if (next === null) return current ? jsonCopy(current) : null;
    if (next.id !== id) throw new TypeError(`update(${id}): the changed document must keep its id.`);
    // The caller gets its own copy of what was stored, parsed from the same JSON (one stringify).
    return JSON.parse(this.write(next)) as T;
  }

  async delete(id: string): Promise<boolean> {
    const doc = this.docs.get(id);
    if (!doc) return false;
    this.unindex(doc);
    this.docs.delete(id);
    return true;
  }

  async find(query?: FindQuery<T>): Promise<T[]> {
    return runQuery(this.docs.values(), checkQuery(this.name, query)).map(jsonCopy);
  }

  async findMany(queries: readonly FindQuery<T>[]): Promise<T[][]> {
    return queries.map((query) => runQuery(this.docs.values(), checkQuery(this.name, query)).map(jsonCopy));
  }

  async count(where?: Where<T>): Promise<number> {
    const checked = checkWhere(this.name, where);
    let n = 0;
    for (const doc of this.docs.values()) if (matchesWhere(doc, checked)) n++;
    return n;
  }

  async clear(): Promise<void> {
    this.docs.clear();
    for (const values of this.uniqueValues.values()) values.clear();
  }

  /** Store a copy of `doc`; returns its JSON, from which callers may make their own copies. */
  private write(doc: T): string {
    checkDocument(this.name, doc, new Set(this.uniqueValues.keys()));
    const json = JSON.stringify(doc);
    const stored = JSON.parse(json) as T;
    for (const [field, values] of this.uniqueValues) {
      const value = this.valueOf(stored, field);
      const holder = value === null ? undefined : values.get(value);
      if (holder !== undefined && holder !== stored.id) throw uniqueConflict(this.name, field, value);
    }
    const previous = this.docs.get(stored.id);
    if (previous) this.unindex(previous);
    this.docs.set(stored.id, stored);
    for (const [field, values] of this.uniqueValues) {
      const value = this.valueOf(stored, field);
      if (value !== null) values.set(value, stored.id);
    }
    return json;
  }

  private unindex(doc: T): void {
    for (const [field, values] of this.uniqueValues) {
      const value = this.valueOf(doc, field);
      if (value !== null && values.get(value) === doc.id) values.delete(value);
    }
  }

  private valueOf(doc: T, field: string): string | null {
    const value = (doc as unknown as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : null;
  }
}

export class MemoryDocumentStore implements DocumentStore {
  private readonly collections = new Map<string, MemoryCollection<Doc>>();

  collection<T extends Doc>(name: string, options: CollectionOptions<T> = {}): DocumentCollection<T> {
    checkCollectionName(name);
    let collection = this.collections.get(name) as MemoryCollection<T> | undefined;
    if (!collection) {
      collection = new MemoryCollection<T>(name);
      this.collections.set(name, collection as unknown as MemoryCollection<Doc>);
    }
    collection.addOptions(options);
    return collection;
  }

  async close(): Promise<void> {
    // Nothing to release; the data stays readable until the store is garbage collected.
  }
}
