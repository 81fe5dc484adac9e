// Per-request batching of document reads: every `get` a request's resolvers make on one collection
// in the same tick (an `_entities` call with fifty representations, the fields of a list's rows)
// becomes one `getMany`, and every `find` (each row's own list: a page of members, each with its
// certifications) one `findMany` where the adapter has it (SQLite: one statement). Loaders live as long as the request's context object (a WeakMap), so
// nothing is shared between requests or callers. They batch but do not cache: a mutation's later
// field never reads a document as it was before an earlier field changed it.
import DataLoader from 'dataloader';
import { findEach, type Doc, type DocumentCollection, type FindQuery } from '../../messaging/state/document-store';

type Loader = DataLoader<string, Doc | null>;
type FindLoader = DataLoader<FindQuery<Doc>, Doc[]>;

const loadersByRequest = new WeakMap<object, Map<DocumentCollection<Doc>, Loader>>();
const findLoadersByRequest = new WeakMap<object, Map<DocumentCollection<Doc>, FindLoader>>();

function loaderOf(collection: DocumentCollection<Doc>): Loader {
  return new DataLoader<string, Doc | null>(
    async (ids) => {
      const docs = await collection.getMany(ids);
      const byId = new Map(docs.map((doc) => [doc.id, doc]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { cache: false },
  );
}

/**
 * The document with this id in `collection` (null when absent), read together with every other one
 * the same request asks of the same collection in the same tick. `request` is the request's context
 * object (any object that lives exactly as long as the request).
 */
export function loadDocument<T extends Doc>(request: object, collection: DocumentCollection<T>, id: string): Promise<T | null> {
  let loaders = loadersByRequest.get(request);
  if (!loaders) loadersByRequest.set(request, (loaders = new Map()));
  const key = collection as unknown as DocumentCollection<Doc>;
  let loader = loaders.get(key);
  if (!loader) loaders.set(key, (loader = loaderOf(key)));
  return loader.load(id) as Promise<T | null>;
}

/**
 * `collection.find(query)`, read together with every other find the same request makes on the same
 * collection in the same tick (one `findMany`).
 */
export function findDocuments<T extends Doc>(request: object, collection: DocumentCollection<T>, query: FindQuery<T>): Promise<T[]> {
  let loaders = findLoadersByRequest.get(request);
  if (!loaders) findLoadersByRequest.set(request, (loaders = new Map()));
  const key = collection as unknown as DocumentCollection<Doc>;
  let loader = loaders.get(key);
  if (!loader) loaders.set(key, (loader = new DataLoader<FindQuery<Doc>, Doc[]>((queries) => findEach(key, queries), { cache: false })));
  return loader.load(query as unknown as FindQuery<Doc>) as Promise<T[]>;
}
