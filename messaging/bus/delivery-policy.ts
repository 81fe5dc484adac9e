// The adapter-independent rules of consuming, shared by the in-process and RabbitMQ buses:
// option defaults and checks, decoding + schema validation of an inbound event, and the outcome policy.
import { receivedEnvelopeSchema, type AnyEventEnvelope } from '../events/envelope';
import { currentVersion, upcastPayload } from '../events/registry';
import { isDomainError, ValidationError } from '../../platform/errors';
import type { BatchHandler, ConsumeOptions, Delivery, DeliveryOutcome, EventHandler } from './event-bus';
import { assertTopicPattern } from './topic-pattern';

export const consumeDefaults = { prefetch: 10, maxAttempts: 5, retryDelayMs: 1000 } as const;

export interface ResolvedConsumeOptions {
  readonly queue: string;
  readonly bindings: readonly string[];
  readonly prefetch: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly exclusive: boolean;
  /** The exchange the queue binds to: `events`, or a temporary topic. */
  readonly topic: string;
  readonly concurrency: number;
}

/** Names a temporary topic may never take: the default live exchange, its dead-letter and announcement exchanges. */
const RESERVED_TOPICS: ReadonlySet<string> = new Set(['events', 'events.dlx', 'events.appends', '']);

/** Whether `name` is usable as an exchange name at all: 1 to 200 characters, not AMQP's own amq.*. */
function isExchangeName(name: unknown): name is string {
  return typeof name === 'string' && name.trim() !== '' && name.length <= 200 && !name.startsWith('amq.');
}

/**
 * Refuse a live exchange name (RABBITMQ_EXCHANGE) RabbitMQ would refuse or reserve. `events`, the
 * default, is of course allowed: this is the deployment's own exchange.
 */
export function assertExchangeName(exchange: string): void {
  if (!isExchangeName(exchange)) {
    throw new ValidationError(`Exchange name "${exchange}" must be 1 to 200 characters and not amq.* (reserved by AMQP).`, { exchange });
  }
}

/**
 * Refuse a temporary topic name that would clash with the live topology (the default names, or the
 * deployment's own live exchange and the exchanges named after it) or with AMQP's own.
 */
export function assertTopicName(topic: string, liveExchange = 'events'): void {
  const clashes = RESERVED_TOPICS.has(topic) || [liveExchange, `${liveExchange}.dlx`, `${liveExchange}.appends`].includes(topic);
  if (!isExchangeName(topic) || clashes) {
    throw new ValidationError(
      `Topic name "${topic}" must be 1 to 200 characters, not amq.* and not a live exchange ("${liveExchange}", "${liveExchange}.dlx", "${liveExchange}.appends").`,
      { topic },
    );
  }
}

/** Fill in defaults and refuse nonsense early (a prefetch of 0 would stall a queue forever). */
export function resolveConsumeOptions(options: ConsumeOptions): ResolvedConsumeOptions {
  const { queue } = options;
  if (typeof queue !== 'string' || queue.trim() === '' || queue.length > 200) {
    throw new ValidationError('Queue name must be a non-empty string of at most 200 characters.', { queue });
  }
  if (queue.startsWith('amq.')) {
    throw new ValidationError(`Queue name "${queue}" is reserved by AMQP (amq.*): choose another.`, { queue });
  }
  if (options.bindings.length === 0) {
    throw new ValidationError(`Queue "${queue}" needs at least one binding pattern (e.g. "member.*").`, { queue });
  }
  options.bindings.forEach(assertTopicPattern);
  const prefetch = options.prefetch ?? consumeDefaults.prefetch;
  const maxAttempts = options.maxAttempts ?? consumeDefaults.maxAttempts;
  const retryDelayMs = options.retryDelayMs ?? consumeDefaults.retryDelayMs;
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65535) {
    throw new ValidationError(`prefetch must be an integer from 1 to 65535, got ${prefetch}.`, { queue, prefetch });
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ValidationError(`maxAttempts must be a positive integer, got ${maxAttempts}.`, { queue, maxAttempts });
  }
  if (!Number.isInteger(retryDelayMs) || retryDelayMs < 0) {
    throw new ValidationError(`retryDelayMs must be a non-negative integer, got ${retryDelayMs}.`, { queue, retryDelayMs });
  }
  const concurrency = options.concurrency ?? prefetch;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > prefetch) {
    throw new ValidationError(`concurrency must be an integer from 1 to prefetch (${prefetch}), got ${concurrency}.`, { queue, concurrency });
  }
  if (options.topic !== undefined) assertTopicName(options.topic);
  return {
    queue,
    bindings: [...new Set(options.bindings)],
    topic: options.topic ?? 'events',
    concurrency,
    prefetch,
    maxAttempts,
    retryDelayMs,
    exclusive: options.exclusive ?? false,
  };
}

export type DecodeResult =
  | { readonly ok: true; readonly event: AnyEventEnvelope }
  | { readonly ok: false; readonly reason: string; readonly id: string; readonly type: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turn a received message body into a valid envelope at the current schema version, or say why not.
 * A failure is a dead letter: retrying cannot fix a message that breaks its contract.
 */
export function decodeEvent(raw: unknown): DecodeResult {
  const checked = receivedEnvelopeSchema.safeParse(raw);
  const id = isRecord(raw) && typeof raw.id === 'string' ? raw.id : '';
  const type = isRecord(raw) && typeof raw.type === 'string' ? raw.type : '';
  const fail = (reason: string): DecodeResult => ({ ok: false, reason, id, type });
  if (!checked.success) {
    // The first issue, in the schema's field order (id, type, schemaVersion, correlationId, metadata).
    const issue = checked.error.issues[0];
    const field = issue?.path[0];
    if (field === undefined) return fail('INVALID_EVENT: the message body is not a JSON object.');
    return fail(`INVALID_EVENT: envelope field "${String(field)}" ${issue?.message ?? 'is invalid'}.`);
  }
  // The parsed copy only vouches for the fields above: the event is the body as it came.
  const { schemaVersion } = checked.data;
  try {
    // The casts are safe: upcastPayload throws for any type outside the catalog.
    const payload = upcastPayload(type as AnyEventEnvelope['type'], schemaVersion, checked.data.payload);
    const event = { ...(raw as Record<string, unknown>), schemaVersion: currentVersion(type as AnyEventEnvelope['type']), payload };
    return { ok: true, event: event as unknown as AnyEventEnvelope };
  } catch (error) {
    if (isDomainError(error)) return fail(`${error.code}: ${error.message}`);
    return fail(`INVALID_EVENT: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A batch message's elements, each to be decoded on its own (one bad event spoils no other). Any
 * other body is one event: a retried event of a batch comes back alone. */
export function batchElements(raw: unknown): readonly unknown[] {
  return Array.isArray(raw) ? raw : [raw];
}

/** Run a batch handler: one outcome per event; a throw or a malformed answer retries every event. */
export async function runBatchHandler(
  handler: BatchHandler,
  events: readonly AnyEventEnvelope[],
  delivery: Delivery,
): Promise<DeliveryOutcome[]> {
  const all = (outcome: DeliveryOutcome): DeliveryOutcome[] => events.map(() => outcome);
  if (events.length === 0) return [];
  try {
    const outcomes = await handler(events, delivery);
    if (!Array.isArray(outcomes) || outcomes.length !== events.length) {
      return all({ kind: 'retry', reason: `batch handler returned ${Array.isArray(outcomes) ? outcomes.length : 'no'} outcomes for ${events.length} events` });
    }
    return outcomes.map((outcome: unknown) =>
      isRecord(outcome) && ['ack', 'retry', 'dead-letter'].includes(String(outcome.kind))
        ? (outcome as unknown as DeliveryOutcome)
        : { kind: 'retry', reason: 'handler returned no outcome (expected ack, retry(...) or deadLetter(...))' },
    );
  } catch (error) {
    return all({ kind: 'retry', reason: error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}` });
  }
}

/** Run a handler; a throw (or a non-outcome return) is a retry carrying the error's message. */
export async function runHandler(
  handler: EventHandler,
  event: AnyEventEnvelope,
  delivery: Delivery,
): Promise<DeliveryOutcome> {
  try {
    const outcome = await handler(event, delivery);
    if (!isRecord(outcome) || !['ack', 'retry', 'dead-letter'].includes(String(outcome.kind))) {
      return { kind: 'retry', reason: 'handler returned no outcome (expected ack, retry(...) or deadLetter(...))' };
    }
    return outcome;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
    return { kind: 'retry', reason };
  }
}

export type Settlement =
  | { readonly action: 'ack' }
  | { readonly action: 'retry'; readonly reason: string; readonly nextAttempt: number }
  | { readonly action: 'dead-letter'; readonly reason: string };

/**
 * What the adapter must do with a delivery: a retry at or past maxAttempts becomes a dead letter; a
 * transient retry (a backend outage) comes back with the same attempt, however long the outage lasts.
 */
export function settle(outcome: DeliveryOutcome, attempt: number, maxAttempts: number): Settlement {
  switch (outcome.kind) {
    case 'ack':
      return { action: 'ack' };
    case 'dead-letter':
      return { action: 'dead-letter', reason: outcome.reason };
    case 'retry':
      if (outcome.transient === true) return { action: 'retry', reason: outcome.reason, nextAttempt: attempt };
      if (attempt >= maxAttempts) {
        return { action: 'dead-letter', reason: `${outcome.reason} (gave up after ${attempt} of ${maxAttempts} attempts)` };
      }
      return { action: 'retry', reason: outcome.reason, nextAttempt: attempt + 1 };
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}
