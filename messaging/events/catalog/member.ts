// Event contracts of the member domain and of its consumers (CRM, email).
import { z } from 'zod';
import { defineEvent } from './define';

const memberId = z.string().min(1).max(64);
const email = z.string().email().max(254);
const tier = z.enum(['basic', 'premium', 'vip']);

export const memberEvents = {
  'member.created': defineEvent({
    version: 1,
    description: 'A member joined.',
    schema: z.object({
      memberId,
      email,
      firstName: z.string().min(1).max(100),
      lastName: z.string().min(1).max(100),
      tier,
    }),
  }),
  'member.profile.updated': defineEvent({
    version: 1,
    description: "A member's profile changed; `changes` holds each changed field's before and after value.",
    schema: z.object({
      memberId,
      changes: z.record(z.string(), z.object({ before: z.unknown(), after: z.unknown() })),
    }),
  }),
  'membership.renewed': defineEvent({
    version: 1,
    description: 'A membership was renewed until `expiresAt`.',
    schema: z.object({ memberId, tier, expiresAt: z.string().datetime() }),
  }),
  'membership.activated': defineEvent({
    version: 1,
    description: 'A paid membership started or was extended.',
    schema: z.object({ memberId, tier, expiresAt: z.string().datetime(), orderId: z.string().min(1).nullable() }),
  }),
  'membership.activation.failed': defineEvent({
    version: 1,
    description:
      'A paid order completed but its membership cannot be activated, for a reason retrying cannot fix (no such member): the order saga refunds the order.',
    schema: z.object({ memberId, orderId: z.string().min(1).max(64), sku: z.string().min(1).max(64), reason: z.string().min(1).max(500) }),
  }),
  'sync.completed': defineEvent({
    version: 1,
    description: "The CRM's contact record of a member caught up with an event.",
    schema: z.object({ memberId, system: z.literal('crm'), sourceEventId: z.string().uuid() }),
  }),
  'email.sent': defineEvent({
    version: 1,
    description: 'A confirmation email went out (through SMTP or into the local mailbox).',
    schema: z.object({
      memberId,
      to: email,
      subject: z.string().min(1),
      sourceEventId: z.string().uuid(),
      transport: z.enum(['smtp', 'mailbox']),
    }),
  }),
} as const;
