// The member read model: one document per member in the `members` collection, folded from the
// member events with the aggregate's own `evolve`. Monotonic per member (a document only moves
// forward in stream version), so replays and several instances running it are harmless.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { RebuildableProjection } from '../../../messaging/replay/projection-versions';
import { evolve, isMemberEvent, type MemberState, type Tier } from '../domain/member';

export interface MemberDoc {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly tier: Tier;
  readonly membershipExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Stream version the document reflects. */
  readonly version: number;
}

export const memberEventTypes = ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'] as const;

export function membersCollection(documents: DocumentStore, name = 'members'): DocumentCollection<MemberDoc> {
  return documents.collection<MemberDoc>(name, { indexes: ['email', 'tier'] });
}

function toState(doc: MemberDoc | null): MemberState {
  if (!doc) return { status: 'absent' };
  return {
    status: 'registered',
    id: doc.id,
    profile: { email: doc.email, firstName: doc.firstName, lastName: doc.lastName },
    tier: doc.tier,
    membershipExpiresAt: doc.membershipExpiresAt,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** Apply one event to a member document; null when the event changes nothing. */
export function applyToMemberDoc(doc: MemberDoc | null, event: AnyEventEnvelope): MemberDoc | null {
  if (!isMemberEvent(event)) return null;
  if (doc && doc.version >= event.streamVersion) return null;
  const state = evolve(toState(doc), event);
  if (state.status !== 'registered') return null;
  return {
    id: state.id,
    email: state.profile.email,
    firstName: state.profile.firstName,
    lastName: state.profile.lastName,
    tier: state.tier,
    membershipExpiresAt: state.membershipExpiresAt,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version: event.streamVersion,
  };
}

/**
 * The projection's batch handler, for a StoreFollower over the member event types (and rebuilds).
 * A batch's events are folded per member in memory and each touched document is written once, in
 * one atomic update, so a rebuild pays one read-modify-write per member per batch, not per event.
 */
export function memberReadModelProjection(members: DocumentCollection<MemberDoc>) {
  return async (batch: readonly AnyEventEnvelope[]): Promise<void> => {
    const byMember = new Map<string, AnyEventEnvelope[]>();
    for (const event of batch) {
      if (!isMemberEvent(event)) continue;
      const events = byMember.get(event.payload.memberId);
      if (events) events.push(event);
      else byMember.set(event.payload.memberId, [event]);
    }
    for (const [memberId, events] of byMember) {
      await members.update(memberId, (current) => {
        let doc = current;
        let changed = false;
        for (const event of events) {
          const next = applyToMemberDoc(doc, event);
          if (next) {
            doc = next;
            changed = true;
          }
        }
        return changed ? doc : null;
      });
    }
  };
}

/** The read model as a replay target: rebuilt into a new version, swapped in without downtime. */
export const memberReadModelRebuild: RebuildableProjection<MemberDoc> = {
  name: 'member-read-model',
  base: 'members',
  handles: memberEventTypes,
  open: (documents, collection) => membersCollection(documents, collection),
  project: (collection) => memberReadModelProjection(collection),
};
