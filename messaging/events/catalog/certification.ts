// Event contracts of the certification lifecycle (the seed's state machine). Every payload names
// its certification and applicant, so projections and per-member subscriptions need no lookup.
import { z } from 'zod';
import { defineEvent } from './define';

const certificationId = z.string().min(1).max(64);
const applicantId = z.string().min(1).max(64);
const reason = z.string().min(1).max(500);
const ids = { certificationId, applicantId };

export const certificationEvents = {
  'certification.applied': defineEvent({
    version: 1,
    description: 'A member applied for a certification of a catalogue type, with supporting documents.',
    schema: z.object({
      ...ids,
      certType: z.string().min(1).max(16),
      documents: z.array(z.object({ name: z.string().min(1).max(200), url: z.string().url().max(2000) })).max(20),
    }),
  }),
  'certification.review.started': defineEvent({
    version: 1,
    description: 'An admin started reviewing an application.',
    schema: z.object(ids),
  }),
  'certification.approved': defineEvent({
    version: 1,
    description: 'The review approved the application.',
    schema: z.object(ids),
  }),
  'certification.rejected': defineEvent({
    version: 1,
    description: 'The review rejected the application (final).',
    schema: z.object({ ...ids, reason }),
  }),
  'certification.issued': defineEvent({
    version: 1,
    description: 'The certificate was issued with a unique, human-readable number (e.g. CPA-2025-000123).',
    schema: z.object({
      ...ids,
      certNumber: z.string().regex(/^[A-Z]{2,16}-\d{4}-\d{6,}$/),
      issueDate: z.string().datetime(),
      expiryDate: z.string().datetime(),
    }),
  }),
  'certification.activated': defineEvent({
    version: 1,
    description: 'The certificate became active (after issue, or after a renewal).',
    schema: z.object(ids),
  }),
  'certification.expiring_soon': defineEvent({
    version: 1,
    description: "An active certificate entered its type's expiring-soon window (emitted by the expiry scheduler).",
    schema: z.object({ ...ids, expiryDate: z.string().datetime() }),
  }),
  'certification.renewed': defineEvent({
    version: 1,
    description: 'An expiring certificate was renewed; `renewalFee` is in minor units (cents).',
    schema: z.object({ ...ids, newExpiryDate: z.string().datetime(), renewalFee: z.number().int().nonnegative() }),
  }),
  'certification.expired': defineEvent({
    version: 1,
    description: 'An expiring certificate passed its expiry date without renewal (final; emitted by the expiry scheduler).',
    schema: z.object({ ...ids, expiryDate: z.string().datetime() }),
  }),
  'certification.suspended': defineEvent({
    version: 1,
    description: 'An active certificate was suspended.',
    schema: z.object({ ...ids, reason }),
  }),
  'certification.reactivated': defineEvent({
    version: 1,
    description: 'A suspended certificate became active again.',
    schema: z.object(ids),
  }),
  'certification.revoked': defineEvent({
    version: 1,
    description: 'A suspended certificate was revoked (final).',
    schema: z.object({ ...ids, reason }),
  }),
} as const;
