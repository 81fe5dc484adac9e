// Builds the EventStore the configuration asks for: memory (tests), the embedded SQLite file (the
// default without MONGODB_URI) or MongoDB. Callers depend on the port only.
import { systemClock, type Clock } from '../../platform/clock';
import type { EventStore } from './event-store';
import { MemoryEventStore } from './memory-event-store';
import { MongoEventStore, type MongoEventStoreHooks } from './mongo-event-store';
import { SqliteEventStore } from './sqlite-event-store';

export type EventStoreOptions =
  | { readonly kind: 'memory' }
  /** `file`: the database file (see eventStoreFile(dataDir)), or ':memory:'. */
  | { readonly kind: 'sqlite'; readonly file: string; readonly synchronous?: 'normal' | 'full' }
  | {
      readonly kind: 'mongo';
      readonly uri: string;
      /** Defaults to the database in the URI, else `membership`. */
      readonly dbName?: string;
      /** 'majority' (default) or a number of nodes. */
      readonly writeConcern?: 'majority' | number;
      /** How long a missing position may hold readers back (default 10 s). */
      readonly staleGapMs?: number;
      readonly hooks?: MongoEventStoreHooks;
    };

/** Opens the store (MongoDB: connects and creates indexes, or fails with UNAVAILABLE). */
export async function createEventStore(options: EventStoreOptions, clock: Clock = systemClock): Promise<EventStore> {
  switch (options.kind) {
    case 'memory':
      return new MemoryEventStore(clock);
    case 'sqlite':
      return new SqliteEventStore({ file: options.file, clock, ...(options.synchronous ? { synchronous: options.synchronous } : {}) });
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
