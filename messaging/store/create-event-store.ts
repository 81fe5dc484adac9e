// Builds the EventStore the configuration asks for: memory (tests), the embedded SQLite file (the
// default without MONGODB_URI) or MongoDB. Callers depend on the port only.
import { systemClock, type Clock } from '../../platform/clock';
import type { MongoConnection } from '../../platform/mongodb';
import type { EventStore } from './event-store';
import { MemoryEventStore } from './memory-event-store';
import { MongoEventStore, type MongoEventStoreHooks } from './mongo-event-store';
import { SqliteEventStore } from './sqlite-event-store';

export type EventStoreOptions =
  | { readonly kind: 'memory' }
  /** `file`: the database file (see eventStoreFile(dataDir)), or ':memory:'. */
  | { readonly kind: 'sqlite'; readonly file: string; readonly synchronous?: 'normal' | 'full'; readonly checkpoints?: boolean }
  | ({
      readonly kind: 'mongo';
      /** Defaults to the database in the URI, else `membership`. */
      readonly dbName?: string;
      /** 'majority' (default) or a number of nodes. */
      readonly writeConcern?: 'majority' | number;
      /** How long a missing position may hold readers back (default 10 s). */
      readonly staleGapMs?: number;
      readonly hooks?: MongoEventStoreHooks;
    } & (
      // The process's shared connection (backends.ts), left open by the store; or one of the
      // store's own (tests, tools), closed with it.
      | { readonly connection: MongoConnection }
      | { readonly uri: string; readonly timeoutMs?: number }
    ));

/** Opens the store (MongoDB: connects and creates indexes, or fails with UNAVAILABLE). */
export async function createEventStore(options: EventStoreOptions, clock: Clock = systemClock): Promise<EventStore> {
  switch (options.kind) {
    case 'memory':
      return new MemoryEventStore(clock);
    case 'sqlite':
      return new SqliteEventStore({
        file: options.file,
        clock,
        ...(options.synchronous ? { synchronous: options.synchronous } : {}),
        ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
      });
    case 'mongo': {
      const { kind: _kind, ...mongo } = options;
      return MongoEventStore.connect({ ...mongo, clock });
    }
    default: {
      const unknownKind: never = options;
      throw new Error(`Unknown event store kind: ${JSON.stringify(unknownKind)}`);
    }
  }
}
