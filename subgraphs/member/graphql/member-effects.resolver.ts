// Member fields showing the consumers' results: audit trail, CRM sync and emails (the member
// itself or an admin may read them).
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { AuditEntry as AuditDoc } from '../consumers/audit.consumer';
import type { CrmContact } from '../consumers/crm.consumer';
import type { MailboxEntry } from '../consumers/email.consumer';
import { AuditEntry, CrmSync, SentEmail } from './member-effects.type';
import { Member } from './member.type';

export interface MemberEffectsDeps {
  readonly auditLog: DocumentCollection<AuditDoc>;
  readonly crmContacts: DocumentCollection<CrmContact>;
  readonly mailbox: DocumentCollection<MailboxEntry>;
}

@Resolver(() => Member)
export class MemberEffectsResolver {
  constructor(private readonly deps: MemberEffectsDeps) {}

  @FieldResolver(() => [AuditEntry], { description: 'Every recorded change of this member, oldest first.' })
  async auditTrail(@Root() member: Member, @Ctx() ctx: SubgraphContext): Promise<AuditEntry[]> {
    requireSelfOrAdmin(ctx, member.id);
    const entries = await this.deps.auditLog.find({ where: { memberId: member.id }, orderBy: { field: 'position' } });
    return entries.map((e) =>
      Object.assign(new AuditEntry(), { ...e, occurredAt: new Date(e.occurredAt), changes: e.changes.map((c) => ({ ...c })) }),
    );
  }

  @FieldResolver(() => CrmSync, { nullable: true, description: 'Null until the CRM has synchronised this member.' })
  async crmSync(@Root() member: Member, @Ctx() ctx: SubgraphContext): Promise<CrmSync | null> {
    requireSelfOrAdmin(ctx, member.id);
    const contact = await this.deps.crmContacts.get(member.id);
    if (!contact) return null;
    return Object.assign(new CrmSync(), {
      ...contact,
      syncedAt: new Date(contact.syncedAt),
      upToDate: typeof member.version === 'number' ? contact.version >= member.version : true,
    });
  }

  @FieldResolver(() => [SentEmail], { description: 'Confirmation emails sent to this member, in the order of the changes they confirm.' })
  async emails(@Root() member: Member, @Ctx() ctx: SubgraphContext): Promise<SentEmail[]> {
    requireSelfOrAdmin(ctx, member.id);
    const mails = await this.deps.mailbox.find({ where: { memberId: member.id }, orderBy: { field: 'sourcePosition' } });
    return mails.map((m) => Object.assign(new SentEmail(), { ...m, sentAt: new Date(m.sentAt) }));
  }
}
