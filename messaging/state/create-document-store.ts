// Picks the DocumentStore adapter from configuration: memory (tests), SQLite file (embedded default)
// or MongoDB (when MONGODB_URI is set).
import type { MongoConnection } from '../../platform/mongodb';
import type { DocumentStore } from './document-store';
import { MemoryDocumentStore } from './memory-document-store';
import { MongoDocumentStore } from './mongo-document-store';
import { SqliteDocumentStore } from './sqlite-document-store';

export type DocumentStoreConfig =
  | { readonly kind: 'memory' }
  /** `file` is the database file inside the data directory (created if missing), or ':memory:'. */
  | { readonly kind: 'sqlite'; readonly file: string; readonly checkpoints?: boolean }
  /**
   * On the process's shared connection (backends.ts), or one of the store's own; `dbName` defaults
   * to the database in the URI, else `membership`.
   */
  | ({ readonly kind: 'mongo'; readonly dbName?: string } & (
      | { readonly connection: MongoConnection }
      | { readonly uri: string; readonly timeoutMs?: number }
    ));

export function createDocumentStore(config: DocumentStoreConfig): DocumentStore {
  switch (config.kind) {
    case 'memory':
      return new MemoryDocumentStore();
    case 'sqlite':
      return new SqliteDocumentStore({ file: config.file, ...(config.checkpoints === undefined ? {} : { checkpoints: config.checkpoints }) });
    case 'mongo':
      return MongoDocumentStore.connect(config);
    default: {
      const unknownKind: never = config;
      throw new Error(`Unknown document store kind: ${JSON.stringify(unknownKind)}`);
    }
  }
}
