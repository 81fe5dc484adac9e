// Test helpers for consumers: delivery objects, replay envelopes, a store whose writes can be made
// to fail once (to stand in for a crash), and a bounded wait on pushed values.
import type { Delivery } from '../../messaging/bus/event-bus';
import type { EventType } from '../../messaging/events/catalog';
import type { EventEnvelope } from '../../messaging/events/envelope';
import type { CollectionOptions, Doc, DocumentCollection, DocumentStore } from '../../messaging/state/document-store';
import { makeEnvelope } from './envelopes';

export function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return { attempt: 1, redelivered: false, queue: 'test-queue', ...overrides };
}

/** The same event as the replay service would send it in run `replayId`. */
export function asReplay<T extends EventType>(event: EventEnvelope<T>, replayId: string): EventEnvelope<T> {
  return {
    ...event,
    metadata: { ...event.metadata, replay: true, replayInfo: { replayId, originalPosition: event.position } },
  };
}

/** A valid envelope at a given global position. */
export function eventAt<T extends EventType>(type: T, position: number, recordedAt = '2025-01-15T10:00:00.000Z'): EventEnvelope<T> {
  return makeEnvelope(type, undefined, { position, recordedAt, occurredAt: recordedAt });
}

/**
 * Delegates to a real store; `failNext(collection, op)` makes the next such call throw, as a crash
 * or a lost database connection would at that exact point.
 */
export class FlakyDocumentStore implements DocumentStore {
  private readonly failures = new Map<string, number>();

  constructor(private readonly inner: DocumentStore) {}

  failNext(collection: string, op: 'insert' | 'get' | 'update', times = 1): void {
    this.failures.set(`${collection}.${op}`, times);
  }

  collection<T extends Doc>(name: string, options?: CollectionOptions<T>): DocumentCollection<T> {
    const real = this.inner.collection<T>(name, options);
    const maybeFail = (op: string) => {
      const key = `${name}.${op}`;
      const left = this.failures.get(key) ?? 0;
      if (left > 0) {
        this.failures.set(key, left - 1);
        throw new Error(`simulated failure of ${key}`);
      }
    };
    return {
      name: real.name,
      get: async (id) => (maybeFail('get'), real.get(id)),
      getMany: (ids) => real.getMany(ids),
      put: (doc) => real.put(doc),
      insert: async (doc) => (maybeFail('insert'), real.insert(doc)),
      update: async (id, change) => (maybeFail('update'), real.update(id, change)),
      delete: (id) => real.delete(id),
      find: (query) => real.find(query),
      count: (where) => real.count(where),
      clear: () => real.clear(),
    };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Values pushed by callbacks, and a bounded wait for a condition on them (no sleeps). */
export class Recorder<T> {
  readonly items: T[] = [];
  private wakers: (() => void)[] = [];

  push = (item: T): void => {
    this.items.push(item);
    const wakers = this.wakers;
    this.wakers = [];
    wakers.forEach((wake) => wake());
  };

  async until(condition: (items: readonly T[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this.items)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.items)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
