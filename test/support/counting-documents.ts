// A DocumentStore that counts the reads made on each collection (get, getMany, find, findMany, count), for
// tests that prove reads are batched or remembered. Everything else passes through unchanged.
import type { Doc, DocumentCollection, DocumentStore } from '../../messaging/state/document-store';

export type ReadKind = 'get' | 'getMany' | 'find' | 'findMany' | 'count';

export interface CountingDocuments extends DocumentStore {
  /** Reads of `kind` on the collection named `collection` since the last reset. */
  reads(collection: string, kind: ReadKind): number;
  /** The ids asked for by each getMany on `collection` since the last reset. */
  batches(collection: string): readonly (readonly string[])[];
  reset(): void;
}

export function countingDocuments(inner: DocumentStore): CountingDocuments {
  const counts = new Map<string, number>();
  const batches = new Map<string, string[][]>();
  const count = (collection: string, kind: ReadKind) => counts.set(`${collection}:${kind}`, (counts.get(`${collection}:${kind}`) ?? 0) + 1);
  return {
    collection<T extends Doc>(name: string, options?: Parameters<DocumentStore['collection']>[1]): DocumentCollection<T> {
      const c = inner.collection<T>(name, options as never);
      return {
        get name() {
          return c.name;
        },
        get: (id) => (count(name, 'get'), c.get(id)),
        getMany: (ids) => {
          count(name, 'getMany');
          const list = batches.get(name) ?? [];
          list.push([...ids]);
          batches.set(name, list);
          return c.getMany(ids);
        },
        find: (query) => (count(name, 'find'), c.find(query)),
        ...(c.findMany
          ? {
              findMany: (queries: Parameters<NonNullable<DocumentCollection<T>['findMany']>>[0]) => {
                count(name, 'findMany');
                return (c as Required<DocumentCollection<T>>).findMany(queries);
              },
            }
          : {}),
        count: (where) => (count(name, 'count'), c.count(where)),
        put: (doc) => c.put(doc),
        insert: (doc) => c.insert(doc),
        update: (id, change) => c.update(id, change),
        delete: (id) => c.delete(id),
        clear: () => c.clear(),
      };
    },
    close: () => inner.close(),
    reads: (collection, kind) => counts.get(`${collection}:${kind}`) ?? 0,
    batches: (collection) => batches.get(collection) ?? [],
    reset: () => {
      counts.clear();
      batches.clear();
    },
  };
}
