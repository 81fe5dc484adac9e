// Which publish failures retrying can fix. A broker that is down, a connection reset, a nack or a
// missing confirm pass: the publisher retries (the outbox relay blocks and backs off, losing nothing).
// An event the bus cannot encode or the broker will never take (too large, not serialisable) fails
// the same way every time: the outbox relay parks it and goes on. Transport-free: both buses and
// the relay use this one rule.
import { DomainError, isDomainError } from '../../platform/errors';

/** One event a bus can never publish, and why. */
export interface UnpublishableEvent {
  readonly eventId: string;
  readonly reason: string;
}

/**
 * publish() found events it can never publish (named in `events`). A bus that finds them before
 * sending publishes nothing of the batch; one that finds them while sending may have published
 * others (they are deduplicated by id when published again).
 */
export class UnpublishableEventsError extends DomainError {
  constructor(readonly events: readonly UnpublishableEvent[]) {
    super(
      'INVALID_EVENT',
      `The bus cannot publish ${events.length === 1 ? 'event' : `${events.length} events`} ${events.map((e) => `${e.eventId} (${e.reason})`).join(', ')}: retrying cannot help.`,
      { eventIds: events.map((e) => e.eventId) },
    );
  }
}

export type PublishFailureKind = 'transient' | 'permanent';

/** Node's codes for a value an encoder cannot write (a negative AMQP timestamp, a string too long). */
const ENCODING_CODES: ReadonlySet<string> = new Set([
  'ERR_OUT_OF_RANGE',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_BUFFER_OUT_OF_BOUNDS',
  'ERR_STRING_TOO_LONG',
]);

/** The broker closes the channel with this when a message exceeds its max_message_size. */
const TOO_LARGE = /message size \d+ is larger than|max(imum)?[ _]message[ _]size/i;

/**
 * `permanent` when the failure is about the event itself: a contract error, an encoding error
 * (RangeError, TypeError from serialising, Node's ERR_OUT_OF_RANGE ...), a message larger than the
 * broker takes. Everything else (unavailable, connection or channel closed, nack, timeout, unknown)
 * is `transient`: when in doubt, keep order and retry rather than set an event aside.
 */
export function classifyPublishFailure(error: unknown): PublishFailureKind {
  if (error instanceof UnpublishableEventsError) return 'permanent';
  if (isDomainError(error)) {
    return error.code === 'INVALID_EVENT' || error.code === 'UNKNOWN_EVENT_TYPE' || error.code === 'BAD_USER_INPUT' ? 'permanent' : 'transient';
  }
  // Read by shape, not instanceof: errors thrown by Node's own Buffer code may come from another realm.
  if (typeof error !== 'object' || error === null) return 'transient';
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && ENCODING_CODES.has(code)) return 'permanent';
  if (code === 'PRECONDITION_FAILED' && typeof message === 'string' && TOO_LARGE.test(message)) return 'permanent';
  // Errors of the client library (AMQPError and its kinds) carry an AMQP code: the broker or the
  // connection, not the event. Plain RangeError / TypeError come from encoding the event.
  if (typeof code === 'string') return 'transient';
  return name === 'RangeError' || name === 'TypeError' ? 'permanent' : 'transient';
}

/** The events of a batch that `error` says can never be published (empty when it names none). */
export function unpublishableIn(error: unknown, batch: readonly { readonly id: string }[]): UnpublishableEvent[] {
  if (!(error instanceof UnpublishableEventsError)) return [];
  const ids = new Set(batch.map((e) => e.id));
  return error.events.filter((e) => ids.has(e.eventId));
}

/** A short reason for logs and the parked list. */
export function failureReason(error: unknown): string {
  const { name, message } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? `${typeof name === 'string' && name !== 'Error' ? `${name}: ` : ''}${message}` : String(error);
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** The largest message a bus publishes by default: RabbitMQ 4's max_message_size (3.x takes 128 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Bodies of events found publishable by `findUnpublishable`, taken by the publish that follows. */
const checkedBodies = new WeakMap<object, string>();

function bodyOf(event: { readonly id: string }, maxMessageBytes: number): { json: string } | UnpublishableEvent {
  let json = checkedBodies.get(event);
  if (json === undefined) {
    try {
      json = JSON.stringify(event);
    } catch (error) {
      return { eventId: event.id, reason: `not serialisable: ${failureReason(error)}` };
    }
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > maxMessageBytes) return { eventId: event.id, reason: `${bytes} bytes, more than the ${maxMessageBytes} a message may have` };
  return { json };
}

/**
 * The events a bus with this message size can never publish (not serialisable, or too large), found
 * synchronously, before anything is sent. The others' bodies are kept for the publish that follows,
 * so checking first costs no second serialisation.
 */
export function findUnpublishable(events: readonly { readonly id: string }[], maxMessageBytes: number): UnpublishableEvent[] {
  const refused: UnpublishableEvent[] = [];
  for (const event of events) {
    const body = bodyOf(event, maxMessageBytes);
    if ('json' in body) checkedBodies.set(event, body.json);
    else refused.push(body);
  }
  return refused;
}

/**
 * Each event's JSON body, checked before anything is sent: an event that cannot be serialised, or
 * whose body is larger than `maxMessageBytes` (the broker would close the channel on it, failing the
 * whole batch, every time), makes this throw UnpublishableEventsError naming every such event.
 */
export function serialiseForPublish(events: readonly { readonly id: string }[], maxMessageBytes: number): string[] {
  const bodies: string[] = [];
  const refused: UnpublishableEvent[] = [];
  for (const event of events) {
    const body = bodyOf(event, maxMessageBytes);
    checkedBodies.delete(event);
    if ('json' in body) bodies.push(body.json);
    else refused.push(body);
  }
  if (refused.length > 0) throw new UnpublishableEventsError(refused);
  return bodies;
}
