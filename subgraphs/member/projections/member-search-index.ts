// The member search index: an in-memory projection each member-subgraph instance builds from the
// event store at start and keeps current. Finds members by name or email prefix, membership status
// and tier, in a stable order (last name, first name, id); the API pages the matches by that key.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { ValidationError } from '../../../platform/errors';
import { evolve, isMemberEvent, membershipStatus, type MembershipStatus, type MemberState, type Tier } from '../domain/member';

interface Entry {
  readonly id: string;
  readonly sortKey: string;
  readonly terms: readonly string[];
  readonly tier: Tier;
  readonly membershipExpiresAt: string | null;
  readonly state: MemberState;
}

export interface SearchQuery {
  readonly search?: string | null;
  readonly status?: MembershipStatus | null;
  readonly tier?: Tier | null;
}

/** A match: the member and its unique sort key (last name, first name, id). */
export interface SearchMatch {
  readonly id: string;
  readonly sortKey: string;
}

export class MemberSearchIndex {
  private readonly entries = new Map<string, Entry>();
  /** Sort keys in order, for keyset paging. */
  private readonly sorted: string[] = [];
  private readonly byKey = new Map<string, Entry>();

  constructor(private readonly now: () => Date) {}

  get size(): number {
    return this.entries.size;
  }

  apply(batch: readonly AnyEventEnvelope[]): void {
    for (const event of batch) {
      if (!isMemberEvent(event)) continue;
      const id = event.payload.memberId;
      const previous = this.entries.get(id);
      const state = evolve(previous?.state ?? { status: 'absent' }, event);
      if (state.status !== 'registered') continue;
      if (previous) this.remove(previous);
      const first = state.profile.firstName.toLowerCase();
      const last = state.profile.lastName.toLowerCase();
      const entry: Entry = {
        id,
        sortKey: `${last}\u0000${first}\u0000${id}`,
        terms: [first, last, `${first} ${last}`, state.profile.email.toLowerCase()],
        tier: state.tier,
        membershipExpiresAt: state.membershipExpiresAt,
        state,
      };
      this.entries.set(id, entry);
      this.byKey.set(entry.sortKey, entry);
      this.sorted.splice(this.lowerBound(entry.sortKey), 0, entry.sortKey);
    }
  }

  clear(): void {
    this.entries.clear();
    this.byKey.clear();
    this.sorted.length = 0;
  }

  /** Every member matching the query, in the index's order. */
  search(query: SearchQuery): SearchMatch[] {
    const search = query.search?.trim().toLowerCase() ?? '';
    if (search.length > 254) throw new ValidationError('search must be at most 254 characters.', { field: 'search' });
    const now = this.now();
    const matches = (e: Entry) =>
      (search === '' || e.terms.some((t) => t.startsWith(search))) &&
      (!query.status || membershipStatus(e.membershipExpiresAt, now) === query.status) &&
      (!query.tier || e.tier === query.tier);
    const found: SearchMatch[] = [];
    for (const key of this.sorted) {
      const entry = this.byKey.get(key);
      if (entry && matches(entry)) found.push({ id: entry.id, sortKey: key });
    }
    return found;
  }

  /** The order of sort keys (as `sorted` holds them). */
  static compareKeys(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  private remove(entry: Entry): void {
    const index = this.lowerBound(entry.sortKey);
    if (this.sorted[index] === entry.sortKey) this.sorted.splice(index, 1);
    this.byKey.delete(entry.sortKey);
    this.entries.delete(entry.id);
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
