// Per-request batching of document reads by id: every `get` a request's resolvers make on one
// collection in the same tick (an `_entities` call with fifty representations, the fields of a list's
// rows) becomes one `getMany`. Loaders live as long as the request's context object (a WeakMap), so
// nothing is shared between requests or callers. They batch but do not cache: a mutation's later
// field never reads a document as it was before an earlier field changed it.
import DataLoader from 'dataloader';
import type { Doc, DocumentCollection } from '../../messaging/state/document-store';

type Loader = DataLoader<string, Doc | null>;

const loadersByRequest = new WeakMap<object, Map<DocumentCollection<Doc>, Loader>>();

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
