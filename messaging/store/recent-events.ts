// The events this connection appended most recently, kept by position, so that the followers of the
// process (the outbox relay, the projections, the stream processor) read the tail of the log from
// memory instead of each querying and parsing the same new rows again. Several followers read every
// new event: without it, each event was selected and JSON-parsed once per follower.
//
// A read is served from here only when every position of its range is held. Positions are unique
// integers, so holding all of (after, head] means no other event exists in that range; a range with
// a position missing (appended by another process, or evicted) goes to the database as before. Only
// committed events are added, and each is built from its stored row the way a read builds it, once,
// on first use, and frozen: every reader shares it and none can change it.
import type { AnyEventEnvelope } from '../events/envelope';
import { deepFreeze } from '../../platform/deep-freeze';

export class RecentEvents<Row> {
  /** Position -> the stored row, replaced by its envelope once a reader asked for it. */
  private readonly entries = new Map<number, { row: Row | null; envelope: AnyEventEnvelope | null }>();

  constructor(
    private readonly capacity: number,
    private readonly build: (row: Row) => AnyEventEnvelope,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keep committed rows (at their positions); the oldest added go first past the capacity. */
  add(rows: readonly { readonly position: number; readonly row: Row }[]): void {
    for (const { position, row } of rows) {
      if (!this.entries.has(position)) this.entries.set(position, { row, envelope: null });
    }
    let excess = this.entries.size - this.capacity;
    if (excess <= 0) return;
    for (const position of this.entries.keys()) {
      this.entries.delete(position);
      if (--excess === 0) break;
    }
  }

  /**
   * The events of (after, until] that pass `accept`, in position order, or null when any position
   * of that range is not held here (the caller reads the database instead).
   */
  range(after: number, until: number, accept: (event: AnyEventEnvelope) => boolean): AnyEventEnvelope[] | null {
    if (until <= after) return [];
    if (until - after > this.entries.size) return null;
    const events: AnyEventEnvelope[] = [];
    for (let position = after + 1; position <= until; position++) {
      const entry = this.entries.get(position);
      if (!entry) return null;
      if (entry.envelope === null) {
        entry.envelope = deepFreeze(this.build(entry.row as Row));
        entry.row = null;
      }
      if (accept(entry.envelope)) events.push(entry.envelope);
    }
    return events;
  }

  clear(): void {
    this.entries.clear();
  }
}
