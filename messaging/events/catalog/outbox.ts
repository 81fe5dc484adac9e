// Event contracts of the outbox relay's parked list: an event the bus can never publish is set aside
// (it stays in the store) so the others flow on; an admin republishes or skips it. Each step is
// recorded, so who did what to which event stays auditable.
import { z } from 'zod';
import { defineEvent } from './define';

const parked = {
  eventId: z.string().min(1).max(200),
  eventType: z.string().min(1).max(100),
  streamId: z.string().min(1).max(200),
  position: z.number().int().min(1),
};

export const outboxEvents = {
  'outbox.event.parked': defineEvent({
    version: 1,
    description: 'The outbox relay set an event aside: the bus refused it for a reason retrying cannot fix (it stays in the store; later events flow on).',
    schema: z.object({ ...parked, reason: z.string().min(1).max(1000) }),
  }),
  'outbox.event.republished': defineEvent({
    version: 1,
    description: 'An admin had a parked event published again, and the bus took it (late: after the events that followed it).',
    schema: z.object({ ...parked, failedAttempts: z.number().int().min(1) }),
  }),
  'outbox.event.skipped': defineEvent({
    version: 1,
    description: 'An admin decided a parked event is never to be published (it stays in the store), with the reason.',
    schema: z.object({ ...parked, reason: z.string().min(1).max(500) }),
  }),
} as const;
