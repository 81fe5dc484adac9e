// CRM service of the seed: keeps one contact record per member in step with the member events
// and announces each sync with `sync.completed`. The contact only moves forward in stream version,
// so redeliveries and replays cannot roll it back; a replay rebuilds contacts without announcing.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { EventStore } from '../../../messaging/store/event-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { evolve, type MemberState } from '../domain/member';

export interface CrmContact {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly tier: string;
  readonly membershipExpiresAt: string | null;
  /** Member stream version the contact reflects. */
  readonly version: number;
  readonly syncedAt: string;
  readonly lastSourceEventId: string;
}

export function crmContacts(documents: DocumentStore): DocumentCollection<CrmContact> {
  return documents.collection<CrmContact>('crm_contacts');
}

function toState(contact: CrmContact | null): MemberState {
  if (!contact) return { status: 'absent' };
  return {
    status: 'registered',
    id: contact.id,
    profile: { email: contact.email, firstName: contact.firstName, lastName: contact.lastName },
    tier: contact.tier as 'basic',
    membershipExpiresAt: contact.membershipExpiresAt,
    createdAt: contact.syncedAt,
    updatedAt: contact.syncedAt,
  };
}

export function crmConsumer(deps: { documents: DocumentStore; store: EventStore; clock: Clock }) {
  const contacts = crmContacts(deps.documents);
  return defineConsumer({
    name: 'crm',
    handles: ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'],
    async handle(event, ctx) {
      const memberId = event.payload.memberId;
      const syncedAt = deps.clock.now().toISOString();
      await contacts.update(memberId, (current) => {
        if (current && current.version >= event.streamVersion) return null;
        const state = evolve(toState(current), event);
        if (state.status !== 'registered') return null;
        return {
          id: memberId,
          ...state.profile,
          tier: state.tier,
          membershipExpiresAt: state.membershipExpiresAt,
          version: event.streamVersion,
          syncedAt,
          lastSourceEventId: event.id,
        };
      });
      if (ctx.replay) return;
      await deps.store.append(
        `crm-${memberId}`,
        [{ id: deterministicUuid(ctx.effectKey), type: 'sync.completed', payload: { memberId, system: 'crm', sourceEventId: event.id } }],
        { expectedVersion: 'any', context: { correlationId: event.correlationId, causationId: event.id, actor: { id: 'crm', role: 'system' } } },
      );
    },
  });
}
