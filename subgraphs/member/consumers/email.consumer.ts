// Email service of the seed: sends a confirmation for each member change and announces it with
// `email.sent`. The mailbox record keyed by the consumer's effect key is written once the mail is
// out, so a redelivered event finds it and sends nothing; replays send nothing at all.
// (With SMTP, a crash after the server accepted a mail but before the record is written sends it
// again on redelivery: at least once, as SMTP itself offers no idempotency.)
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { EventStore } from '../../../messaging/store/event-store';
import type { Clock } from '../../../platform/clock';
import { DomainError } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import type { Mailer } from './mailer';

export interface MailboxEntry {
  readonly id: string;
  readonly memberId: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly transport: 'smtp' | 'mailbox';
  readonly sentAt: string;
  readonly sourceEventId: string;
  readonly sourceEventType: string;
  /** Global position of the event the mail is about: mails list in event order. */
  readonly sourcePosition: number;
}

/** Who to write to: the email consumer's own view of each member's address and name. */
interface Recipient {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly version: number;
}

export function mailbox(documents: DocumentStore): DocumentCollection<MailboxEntry> {
  return documents.collection<MailboxEntry>('mailbox', { indexes: ['memberId', 'sourcePosition'] });
}

export function emailConsumer(deps: { documents: DocumentStore; store: EventStore; clock: Clock; mailer: Mailer }) {
  const mails = mailbox(deps.documents);
  const recipients = deps.documents.collection<Recipient>('email_recipients');
  return defineConsumer({
    name: 'email',
    handles: ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'],
    async handle(event, ctx) {
      const memberId = event.payload.memberId;
      let recipient: Recipient | null;
      if (event.type === 'member.created') {
        const p = event.payload;
        recipient = await recipients.update(memberId, (cur) =>
          cur && cur.version >= event.streamVersion ? null : { id: memberId, email: p.email, firstName: p.firstName, version: event.streamVersion },
        );
        recipient ??= await recipients.get(memberId);
      } else {
        recipient = await recipients.get(memberId);
        if (!recipient) {
          // The member.created delivery has not been handled yet (retries can reorder): try again.
          throw new DomainError('UNAVAILABLE', `No recipient known yet for member ${memberId}.`);
        }
        if (event.type === 'member.profile.updated') {
          const changes = event.payload.changes;
          const email = changes.email ? String(changes.email.after) : recipient.email;
          const firstName = changes.firstName ? String(changes.firstName.after) : recipient.firstName;
          recipient = (await recipients.update(memberId, (cur) =>
            cur && cur.version >= event.streamVersion ? null : { id: memberId, email, firstName, version: event.streamVersion },
          )) ?? { ...recipient, email, firstName };
        }
      }
      if (!recipient) throw new DomainError('UNAVAILABLE', `No recipient known yet for member ${memberId}.`);
      if (ctx.replay) return;
      if (await mails.get(ctx.effectKey)) return;

      const message = compose(event.type, recipient.firstName, event.payload as Record<string, unknown>);
      await deps.mailer.send({ to: recipient.email, ...message });
      const sentAt = deps.clock.now().toISOString();
      await mails.insert({
        id: ctx.effectKey,
        memberId,
        to: recipient.email,
        ...message,
        transport: deps.mailer.transport,
        sentAt,
        sourceEventId: event.id,
        sourceEventType: event.type,
        sourcePosition: event.position,
      });
      await deps.store.append(
        `email-${memberId}`,
        [
          {
            id: deterministicUuid(ctx.effectKey),
            type: 'email.sent',
            payload: { memberId, to: recipient.email, subject: message.subject, sourceEventId: event.id, transport: deps.mailer.transport },
          },
        ],
        { expectedVersion: 'any', context: { correlationId: event.correlationId, causationId: event.id, actor: { id: 'email', role: 'system' } } },
      );
    },
  });
}

function compose(type: string, firstName: string, payload: Record<string, unknown>): { subject: string; text: string } {
  switch (type) {
    case 'member.created':
      return { subject: 'Welcome to the organisation', text: `Hello ${firstName}, your membership account is ready.` };
    case 'member.profile.updated':
      return {
        subject: 'Your profile was updated',
        text: `Hello ${firstName}, these fields of your profile changed: ${Object.keys((payload.changes as object) ?? {}).join(', ')}.`,
      };
    case 'membership.renewed':
      return { subject: 'Your membership was renewed', text: `Hello ${firstName}, your membership now runs until ${String(payload.expiresAt)}.` };
    default:
      return { subject: 'Your membership is active', text: `Hello ${firstName}, your ${String(payload.tier)} membership runs until ${String(payload.expiresAt)}.` };
  }
}
