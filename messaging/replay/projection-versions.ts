// Projection rebuilds without downtime: a read model lives in a versioned collection named by a
// pointer document; a rebuild fills a new version while the active one serves queries and the live
// projection keeps writing it, then the pointer is swapped. Readers and the live projection resolve
// the pointer on every call, so after the swap nobody writes the old version any more.
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { Doc, DocumentCollection, DocumentStore } from '../state/document-store';
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

/**
 * A collection that is always the projection's active version. One pointer read per call: the
 * price of swapping versions across processes without a restart.
 */
export function versionedCollection<T extends Doc>(
  documents: DocumentStore,
  projection: string,
  base: string,
  open: (name: string) => DocumentCollection<T>,
): DocumentCollection<T> {
  const current = async () => open(await activeCollectionName(documents, projection, base));
  return {
    get name() {
      return base;
    },
    get: async (id) => (await current()).get(id),
    getMany: async (ids) => (await current()).getMany(ids),
    put: async (doc) => (await current()).put(doc),
    insert: async (doc) => (await current()).insert(doc),
    update: async (id, change) => (await current()).update(id, change),
    delete: async (id) => (await current()).delete(id),
    find: async (query) => (await current()).find(query),
    count: async (where) => (await current()).count(where),
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
