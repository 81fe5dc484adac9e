// Projection rebuilds without downtime: a read model lives in a versioned collection named by a
// pointer document; a rebuild fills a new version while the active one serves queries and the live
// projection keeps writing it, then the pointer is swapped. Writers resolve the pointer on every
// call, so after the swap nobody writes the old version any more; readers may remember it
// (ActiveVersions) until a replay's end is seen in the store, and read the previous version (kept
// until the next rebuild) for that long.
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import { findEach, type Doc, type DocumentCollection, type DocumentStore } from '../state/document-store';
import type { EventStore } from '../store/event-store';
import type { Clock } from '../../platform/clock';

export const PROJECTION_VERSIONS_COLLECTION = 'projection_versions';

export interface ProjectionVersionDoc {
  /** The projection's name (`member-read-model`). */
  readonly id: string;
  /** The collection queries read and the live projection writes. */
  readonly active: string;
  readonly version: number;
  /** The version replaced by the last swap: kept until the next rebuild (a reader may still hold it). */
  readonly previous: string | null;
  /** The version being rebuilt, if any. */
  readonly building: string | null;
  readonly swappedAt: string | null;
}

export function projectionVersions(documents: DocumentStore): DocumentCollection<ProjectionVersionDoc> {
  return documents.collection<ProjectionVersionDoc>(PROJECTION_VERSIONS_COLLECTION);
}

/** The active collection of a projection: its base name until a rebuild swapped one in. */
export async function activeCollectionName(documents: DocumentStore, projection: string, base: string): Promise<string> {
  return (await projectionVersions(documents).get(projection))?.active ?? base;
}

/** Events after which a projection's active version may have changed: a replay ended (a rebuild swaps before it records `replay.completed`; a failed or cancelled one may have swapped before it failed). */
export const VERSION_SWAP_EVENT_TYPES = ['replay.completed', 'replay.failed', 'replay.cancelled'] as const satisfies readonly EventType[];

/**
 * The active version of each projection as last read, so readers need not read the pointer on every
 * call. Forgotten when a replay's end is observed (`observe`, fed by a follower of
 * VERSION_SWAP_EVENT_TYPES in every process that reads): until then readers see the previous
 * version, which a swap keeps and stops writing, so for that long they read data as of the swap.
 */
export class ActiveVersions {
  private readonly known = new Map<string, Promise<string>>();
  /** Bumped by every `forget`: a pointer read that began before it is not remembered. */
  private generation = 0;

  constructor(private readonly documents: DocumentStore) {}

  /** The projection's active collection name: remembered, or read (and remembered) once. */
  name(projection: string, base: string): Promise<string> {
    const known = this.known.get(projection);
    if (known) return known;
    const generation = this.generation;
    const read = activeCollectionName(this.documents, projection, base);
    this.known.set(projection, read);
    read.then(
      () => {
        if (generation !== this.generation && this.known.get(projection) === read) this.known.delete(projection);
      },
      () => {
        // A failed read is not remembered: the next call tries again.
        if (this.known.get(projection) === read) this.known.delete(projection);
      },
    );
    return read;
  }

  forget(): void {
    this.generation++;
    this.known.clear();
  }

  /** Forget every remembered pointer when the batch holds the end of a replay. */
  observe(batch: readonly AnyEventEnvelope[]): void {
    if (batch.some((event) => (VERSION_SWAP_EVENT_TYPES as readonly string[]).includes(event.type))) this.forget();
  }
}

/**
 * A collection that is always the projection's active version. Writes read the pointer on every
 * call (the price of swapping versions across processes without a restart: after a swap no write
 * goes to the old version); reads too, unless `versions` remembers it for them.
 */
export function versionedCollection<T extends Doc>(
  documents: DocumentStore,
  projection: string,
  base: string,
  open: (name: string) => DocumentCollection<T>,
  versions?: ActiveVersions,
): DocumentCollection<T> {
  const opened = new Map<string, DocumentCollection<T>>();
  const collection = (name: string) => {
    let found = opened.get(name);
    if (!found) opened.set(name, (found = open(name)));
    return found;
  };
  const current = async () => collection(await activeCollectionName(documents, projection, base));
  const forReading = versions ? async () => collection(await versions.name(projection, base)) : current;
  return {
    get name() {
      return base;
    },
    get: async (id) => (await forReading()).get(id),
    getMany: async (ids) => (await forReading()).getMany(ids),
    put: async (doc) => (await current()).put(doc),
    insert: async (doc) => (await current()).insert(doc),
    update: async (id, change) => (await current()).update(id, change),
    delete: async (id) => (await current()).delete(id),
    find: async (query) => (await forReading()).find(query),
    findMany: async (queries) => findEach(await forReading(), queries),
    count: async (where) => (await forReading()).count(where),
    clear: async () => (await current()).clear(),
  };
}

/** How a rebuildable projection is built: its types, collections and batch handler. */
export interface RebuildableProjection<T extends Doc = Doc> {
  readonly name: string;
  /** The collection name of version 1 (and the prefix of later versions). */
  readonly base: string;
  readonly handles: readonly EventType[];
  open(documents: DocumentStore, collection: string): DocumentCollection<T>;
  /** Apply events (in order) to a collection; must be monotonic per document, as live projections are. */
  project(collection: DocumentCollection<T>): (batch: readonly AnyEventEnvelope[]) => Promise<void>;
}

/** One rebuild of one projection: begin (new empty version), feed it, then finish (swap) or abort. */
export class ProjectionRebuild<T extends Doc = Doc> {
  private buildingName: string | null = null;

  constructor(
    private readonly projection: RebuildableProjection<T>,
    private readonly documents: DocumentStore,
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  get building(): string | null {
    return this.buildingName;
  }

  /** Make the next version, empty, and drop the version before the active one (nobody reads it). */
  async begin(): Promise<DocumentCollection<T>> {
    const { name, base } = this.projection;
    const pointers = projectionVersions(this.documents);
    const before = (await pointers.get(name)) ?? { id: name, active: base, version: 1, previous: null, building: null, swappedAt: null };
    const next = `${base}_v${before.version + 1}`;
    if (before.previous && before.previous !== before.active) await this.projection.open(this.documents, before.previous).clear();
    const collection = this.projection.open(this.documents, next);
    await collection.clear();
    await pointers.update(name, (current) => ({ ...(current ?? before), previous: null, building: next }));
    this.buildingName = next;
    return collection;
  }

  /**
   * Catch the new version up with the store, swap it in, then catch up once more: events the live
   * projection wrote to the old version just before the swap are re-applied (harmless: monotonic).
   */
  async finish(): Promise<{ active: string; previous: string; caughtUpTo: number }> {
    const next = this.requireBuilding();
    const collection = this.projection.open(this.documents, next);
    await this.catchUp(collection);
    let previous = '';
    await projectionVersions(this.documents).update(this.projection.name, (current) => {
      const active = current?.active ?? this.projection.base;
      previous = active;
      return {
        id: this.projection.name,
        active: next,
        version: (current?.version ?? 1) + 1,
        previous: active,
        building: null,
        swappedAt: this.clock.now().toISOString(),
      };
    });
    // From the same start again: covers whatever the live projection read before it saw the swap.
    const caughtUpTo = await this.catchUp(collection);
    this.buildingName = null;
    return { active: next, previous, caughtUpTo };
  }

  /**
   * Forget a version some other run left half built (its worker died): empty it and clear the
   * pointer's `building`, unless a rebuild has taken the pointer since.
   */
  async abandonLeftover(): Promise<string | null> {
    const pointer = await projectionVersions(this.documents).get(this.projection.name);
    const left = pointer?.building ?? null;
    if (!left) return null;
    await this.projection.open(this.documents, left).clear();
    await projectionVersions(this.documents).update(this.projection.name, (current) =>
      current && current.building === left ? { ...current, building: null } : null,
    );
    return left;
  }

  /** Forget the new version; the active one never changed. */
  async abort(): Promise<void> {
    const next = this.buildingName;
    if (!next) return;
    await this.projection.open(this.documents, next).clear();
    await projectionVersions(this.documents).update(this.projection.name, (current) =>
      current && current.building === next ? { ...current, building: null } : null,
    );
    this.buildingName = null;
  }

  /** The replayed history ends where the run read the store; `replayedTo` is that position. */
  private replayedTo = 0;

  /** Tell the rebuild how far the replay read, so the first catch-up starts there. */
  replayedUpTo(position: number): void {
    this.replayedTo = Math.max(this.replayedTo, position);
  }

  /** Apply everything after the replayed history; returns the last position applied. */
  private async catchUp(collection: DocumentCollection<T>): Promise<number> {
    const apply = this.projection.project(collection);
    let last = this.replayedTo;
    for await (const batch of this.store.readAll({ after: this.replayedTo, types: this.projection.handles, batchSize: 1000 })) {
      await apply(batch);
      last = Math.max(last, batch[batch.length - 1]?.position ?? last);
    }
    return last;
  }

  private requireBuilding(): string {
    if (!this.buildingName) throw new Error(`Rebuild of ${this.projection.name} was not begun.`);
    return this.buildingName;
  }
}
