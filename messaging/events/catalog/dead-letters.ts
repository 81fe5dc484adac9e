// Event contracts of an operator's hand on a consumer's dead letters: sent back to the queue for a
// fresh round of attempts, or discarded for good. Each is recorded, so who did what stays auditable.
import { z } from 'zod';
import { defineEvent } from './define';

const letter = {
  /** The consumer, as the API names it (`crm`), and its queue (`membership.crm`). */
  consumer: z.string().min(1).max(100),
  queue: z.string().min(1).max(200),
  eventId: z.string().min(1).max(200),
  /** As the letter carried it (a dead letter may be an event of no known type). */
  eventType: z.string().max(200),
  deadLetterReason: z.string().max(1000),
  attempts: z.number().int().min(0),
};

export const deadLetterEvents = {
  'dead.letter.requeued': defineEvent({
    version: 1,
    description: "An admin sent a consumer's dead letter back to its queue, for a fresh round of attempts.",
    schema: z.object(letter),
  }),
  'dead.letter.discarded': defineEvent({
    version: 1,
    description: "An admin dropped a consumer's dead letter for good, with the reason.",
    schema: z.object({ ...letter, reason: z.string().min(1).max(500) }),
  }),
} as const;
