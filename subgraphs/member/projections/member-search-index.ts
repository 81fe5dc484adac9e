// The member search index: an in-memory projection each member-subgraph instance builds from the
// event store at start and keeps current. Finds members by name or email prefix, membership status
// and tier, in a stable order (last name, first name, id) with opaque keyset cursors.
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
  readonly first: number;
  readonly after?: string | null;
}

export interface SearchPage {
  readonly ids: string[];
  readonly cursors: string[];
  readonly hasNextPage: boolean;
  readonly totalCount: number;
}

function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.includes('\u0000') || encodeCursor(decoded) !== cursor) {
    throw new ValidationError('after is not a cursor this API gave out.', { field: 'after' });
  }
  return decoded;
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

  search(query: SearchQuery): SearchPage {
    if (!Number.isInteger(query.first) || query.first < 1 || query.first > 100) {
      throw new ValidationError('first must be a whole number from 1 to 100.', { field: 'first' });
    }
    const search = query.search?.trim().toLowerCase() ?? '';
    if (search.length > 254) throw new ValidationError('search must be at most 254 characters.', { field: 'search' });
    const now = this.now();
    const matches = (e: Entry) =>
      (search === '' || e.terms.some((t) => t.startsWith(search))) &&
      (!query.status || membershipStatus(e.membershipExpiresAt, now) === query.status) &&
      (!query.tier || e.tier === query.tier);

    let start = 0;
    if (query.after) {
      const key = decodeCursor(query.after);
      start = this.lowerBound(key);
      if (this.sorted[start] === key) start++;
    }
    const ids: string[] = [];
    const cursors: string[] = [];
    let totalCount = 0;
    let hasNextPage = false;
    for (const key of this.sorted) {
      const entry = this.byKey.get(key);
      if (entry && matches(entry)) totalCount++;
    }
    for (let i = start; i < this.sorted.length; i++) {
      const key = this.sorted[i] as string;
      const entry = this.byKey.get(key);
      if (!entry || !matches(entry)) continue;
      if (ids.length === query.first) {
        hasNextPage = true;
        break;
      }
      ids.push(entry.id);
      cursors.push(encodeCursor(key));
    }
    return { ids, cursors, hasNextPage, totalCount };
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
