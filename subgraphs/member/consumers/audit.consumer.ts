// Audit service of the seed: an append-only log of who changed what on a member, with before and
// after values. Entries are keyed by the consumer's effect key, so a redelivery adds nothing.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';

export interface AuditChange {
  readonly field: string;
  readonly before: string | null;
  readonly after: string | null;
}

export interface AuditEntry {
  readonly id: string;
  readonly memberId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly actorId: string | null;
  readonly actorRole: string | null;
  readonly correlationId: string;
  readonly occurredAt: string;
  readonly position: number;
  readonly changes: readonly AuditChange[];
}

/** The audit's own memory of each member's membership terms, to give renewals a "before". */
interface AuditedMembership {
  readonly id: string;
  readonly tier: string;
  readonly expiresAt: string | null;
  readonly version: number;
}

export function auditLog(documents: DocumentStore): DocumentCollection<AuditEntry> {
  return documents.collection<AuditEntry>('audit_log', { indexes: ['memberId', 'position'] });
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function auditConsumer(deps: { documents: DocumentStore }) {
  const log = auditLog(deps.documents);
  const memberships = deps.documents.collection<AuditedMembership>('audit_memberships');
  return defineConsumer({
    name: 'audit',
    handles: ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'],
    async handle(event) {
      const memberId = event.payload.memberId;
      let changes: AuditChange[];
      switch (event.type) {
        case 'member.created': {
          const p = event.payload;
          await memberships.update(memberId, (cur) => cur ?? { id: memberId, tier: p.tier, expiresAt: null, version: event.streamVersion });
          changes = (['email', 'firstName', 'lastName', 'tier'] as const).map((field) => ({ field, before: null, after: p[field] }));
          break;
        }
        case 'member.profile.updated':
          changes = Object.entries(event.payload.changes).map(([field, c]) => ({ field, before: text(c.before), after: text(c.after) }));
          break;
        case 'membership.renewed':
        case 'membership.activated': {
          const before = await memberships.get(memberId);
          const p = event.payload;
          await memberships.update(memberId, (cur) =>
            cur && cur.version >= event.streamVersion ? null : { id: memberId, tier: p.tier, expiresAt: p.expiresAt, version: event.streamVersion },
          );
          changes = [
            { field: 'tier', before: before?.tier ?? null, after: p.tier },
            { field: 'membershipExpiresAt', before: before?.expiresAt ?? null, after: p.expiresAt },
          ];
          break;
        }
      }
      // Keyed by event id: an audit entry is the same whether written live or by a replay.
      await log.insert({
        id: `audit:${event.id}`,
        memberId,
        eventId: event.id,
        eventType: event.type,
        actorId: event.actor?.id ?? null,
        actorRole: event.actor?.role ?? null,
        correlationId: event.correlationId,
        occurredAt: event.occurredAt,
        position: event.position,
        changes,
      });
    },
  });
}
