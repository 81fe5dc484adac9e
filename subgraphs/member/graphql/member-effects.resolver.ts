// Member fields showing the consumers' results: audit trail, CRM sync and emails (the member
// itself or an admin may read them).
import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { AuditEntry as AuditDoc } from '../consumers/audit.consumer';
import type { CrmContact } from '../consumers/crm.consumer';
import type { MailboxEntry } from '../consumers/email.consumer';
import { AuditChange, AuditEntry, CrmSync, MemberField, SentEmail } from './member-effects.type';
import { AuditEntryConnection, SentEmailConnection } from './member-connection.type';
import { Member } from './member.type';
import { loadDocument } from '../../common/request-loaders';

export interface MemberEffectsDeps {
  readonly auditLog: DocumentCollection<AuditDoc>;
  readonly crmContacts: DocumentCollection<CrmContact>;
  readonly mailbox: DocumentCollection<MailboxEntry>;
}

const memberFields: ReadonlySet<string> = new Set(Object.values(MemberField));

/** A recorded change as the API shows it: a tier as the MemberTier value (BASIC), fields it knows only. */
function toApiChange(change: AuditDoc['changes'][number]): AuditChange[] {
  if (!memberFields.has(change.field)) return [];
  const shown = (value: string | null) => (value !== null && change.field === MemberField.TIER ? value.toUpperCase() : value);
  return [Object.assign(new AuditChange(), { field: change.field as MemberField, before: shown(change.before), after: shown(change.after) })];
}

@Resolver(() => Member)
export class MemberEffectsResolver {
  constructor(private readonly deps: MemberEffectsDeps) {}

  @FieldResolver(() => AuditEntryConnection, { description: 'Every recorded change of this member, oldest first.' })
  async auditTrail(@Root() member: Member, @Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<AuditEntryConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(
      AuditEntryConnection,
      this.deps.auditLog,
      { list: 'audit-trail', where: { memberId: member.id }, orderBy: { field: 'position', direction: 'asc' }, batchIn: ctx },
      page,
      (e) => Object.assign(new AuditEntry(), { ...e, occurredAt: new Date(e.occurredAt), changes: e.changes.flatMap(toApiChange) }),
    );
  }

  @FieldResolver(() => CrmSync, { nullable: true, description: 'Null until the CRM has synchronised this member.' })
  async crmSync(@Root() member: Member, @Ctx() ctx: SubgraphContext): Promise<CrmSync | null> {
    requireSelfOrAdmin(ctx, member.id);
    const contact = await loadDocument(ctx, this.deps.crmContacts, member.id);
    if (!contact) return null;
    return Object.assign(new CrmSync(), {
      ...contact,
      syncedAt: new Date(contact.syncedAt),
      upToDate: typeof member.version === 'number' ? contact.version >= member.version : true,
    });
  }

  @FieldResolver(() => SentEmailConnection, { description: 'Confirmation emails sent to this member, in the order of the changes they confirm.' })
  async emails(@Root() member: Member, @Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<SentEmailConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(
      SentEmailConnection,
      this.deps.mailbox,
      { list: 'emails', where: { memberId: member.id }, orderBy: { field: 'sourcePosition', direction: 'asc' }, batchIn: ctx },
      page,
      (m) => Object.assign(new SentEmail(), { ...m, sentAt: new Date(m.sentAt) }),
    );
  }
}
