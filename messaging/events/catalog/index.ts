// The typed map from event type to its contract: the single source of truth for event payloads.
// Adding an entry here is what makes an event type publishable and handleable.
import type { z } from 'zod';
import { memberEvents } from './member';
import { paymentEvents } from './payment';
import { certificationEvents } from './certification';
import { analyticsEvents } from './analytics';
import { replayEvents } from './replay';
import { outboxEvents } from './outbox';
import { deadLetterEvents } from './dead-letters';

export const eventCatalog = {
  ...memberEvents,
  ...paymentEvents,
  ...certificationEvents,
  ...analyticsEvents,
  ...replayEvents,
  ...outboxEvents,
  ...deadLetterEvents,
} as const;

type Catalog = typeof eventCatalog;
export type EventType = keyof Catalog;

/** Payload of the current version of an event type: what producers write and handlers read. */
export type EventPayload<T extends EventType> = z.infer<Catalog[T]['schema']>;

export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventCatalog, type);
}
