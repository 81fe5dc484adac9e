// Builds complete event envelopes for tests: valid sample payloads per type, overridable fields.
import { randomUUID } from 'node:crypto';
import type { AnyEventEnvelope, EventEnvelope } from '../../messaging/events/envelope';
import type { EventPayload, EventType } from '../../messaging/events/catalog';

// Samples for the member events; tests of other types pass their payload explicitly.
const samplePayloads: { [T in EventType]?: () => EventPayload<T> } = {
  'member.created': () => ({ memberId: 'm-1', email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' }),
  'member.profile.updated': () => ({ memberId: 'm-1', changes: { firstName: { before: 'Ada', after: 'Augusta' } } }),
  'membership.renewed': () => ({ memberId: 'm-1', tier: 'premium', expiresAt: '2026-01-15T00:00:00.000Z' }),
  'membership.activated': () => ({ memberId: 'm-1', tier: 'premium', expiresAt: '2026-01-15T00:00:00.000Z', orderId: null }),
  'sync.completed': () => ({ memberId: 'm-1', system: 'crm', sourceEventId: randomUUID() }),
  'email.sent': () => ({
    memberId: 'm-1',
    to: 'ada@example.org',
    subject: 'Welcome',
    sourceEventId: randomUUID(),
    transport: 'mailbox',
  }),
};

function sample<T extends EventType>(type: T): EventPayload<T> {
  const make = samplePayloads[type];
  if (!make) throw new Error(`makeEnvelope: no sample payload for ${type}; pass one.`);
  return make();
}

let nextPosition = 1;

/** A valid envelope of `type`; `payload` defaults to a valid sample, `overrides` replace any field. */
export function makeEnvelope<T extends EventType>(
  type: T,
  payload?: EventPayload<T>,
  overrides: Partial<Omit<EventEnvelope<T>, 'type' | 'payload'>> = {},
): EventEnvelope<T> {
  const position = nextPosition++;
  const at = new Date(Date.UTC(2025, 0, 15) + position).toISOString();
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    streamId: 'member-m-1',
    streamVersion: position,
    position,
    occurredAt: at,
    recordedAt: at,
    correlationId: randomUUID(),
    causationId: null,
    actor: { id: 'system', role: 'system' },
    metadata: { replay: false },
    payload: payload ?? sample(type),
    ...overrides,
  };
}

/**
 * An envelope that breaks its contract (a bad payload, or a type outside the catalog), typed as a
 * normal one so it can be handed to publish(): what a buggy or foreign producer could send.
 */
export function makeInvalidEnvelope(type: string, payload: unknown, overrides: Partial<AnyEventEnvelope> = {}): AnyEventEnvelope {
  const base = makeEnvelope('member.created', undefined, overrides as Partial<EventEnvelope<'member.created'>>);
  return { ...base, type, payload } as unknown as AnyEventEnvelope;
}
