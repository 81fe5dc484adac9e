// Picks the DocumentStore adapter from configuration: memory (tests), SQLite file (embedded default)
// or MongoDB (when MONGODB_URI is set).
import type { DocumentStore } from './document-store';
import { MemoryDocumentStore } from './memory-document-store';
import { MongoDocumentStore } from './mongo-document-store';
import { SqliteDocumentStore } from './sqlite-document-store';

export type DocumentStoreConfig =
  | { readonly kind: 'memory' }
  /** `file` is the database file inside the data directory (created if missing), or ':memory:'. */
  | { readonly kind: 'sqlite'; readonly file: string }
  /** `dbName` defaults to the database in the URI, else `membership`. */
  | { readonly kind: 'mongo'; readonly uri: string; readonly dbName?: string };

export function createDocumentStore(config: DocumentStoreConfig): DocumentStore {
  switch (config.kind) {
    case 'memory':
      return new MemoryDocumentStore();
    case 'sqlite':
      return new SqliteDocumentStore({ file: config.file });
    case 'mongo':
      return MongoDocumentStore.connect(config);
    default: {
      const unknownKind: never = config;
      throw new Error(`Unknown document store kind: ${JSON.stringify(unknownKind)}`);
    }
  }
}
