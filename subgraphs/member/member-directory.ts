// Whether a member exists, for the commands of other subgraphs that name one (createOrder,
// applyForCertification, trackActivity): a command for a member nobody registered is refused with
// NOT_FOUND before anything is stored or charged. Read from the member's stream in the shared event
// store, not the read model: strongly consistent, so a member registered a moment ago can act at once.
import type { EventStore } from '../../messaging/store/event-store';
import { NotFoundError } from '../../platform/errors';
import { memberStreamId } from './domain/member';

export interface MemberDirectory {
  exists(memberId: string): Promise<boolean>;
}

/** Members known to exist; never forgotten otherwise (members are not deleted), bounded to stay small. */
const REMEMBERED = 10_000;

export function storeMemberDirectory(store: EventStore): MemberDirectory {
  const known = new Set<string>();
  return {
    exists: async (memberId) => {
      if (known.has(memberId)) return true;
      // The member's stream exists only once member.created is stored: every other command on an
      // absent member is refused by its decider, storing nothing.
      const found = (await store.streamVersion(memberStreamId(memberId))) > 0;
      if (found) {
        if (known.size >= REMEMBERED) known.clear();
        known.add(memberId);
      }
      return found;
    },
  };
}

/** Refuse with NOT_FOUND (naming `field`) unless every member exists. */
export async function requireMembers(directory: MemberDirectory, memberIds: Iterable<string>, field: (memberId: string) => string): Promise<void> {
  for (const memberId of new Set(memberIds)) {
    if (!(await directory.exists(memberId))) {
      throw new NotFoundError(`No member with id ${memberId}: register it first (createMember).`, { id: memberId, field: field(memberId) });
    }
  }
}
