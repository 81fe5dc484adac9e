// Pure rules every EventStore adapter shares: validate and stamp new events, check the expected
// version, decide what a re-append of known event ids means, and turn stored rows back into envelopes.
import { v7 as timeOrderedUuid } from 'uuid';
import type { Clock } from '../../platform/clock';
import { ConcurrencyError, DomainError, EventContractError } from '../../platform/errors';
import { EARLIEST_INSTANT_MS, isPlausibleInstant, LATEST_INSTANT_MS, parseRfc3339 } from '../../platform/instants';
import type { EventType } from '../events/catalog';
import type { Actor, AnyEventEnvelope, AnyNewEvent, CausationContext, EventEnvelope, EventMetadata } from '../events/envelope';
import { currentVersion, upcastPayload, validatePayload } from '../events/registry';
import type { ExpectedVersion, ReadAllOptions, Snapshot } from './event-store';

/** Longest accepted stream id or event id: ids are keys in every adapter's indexes. */
const MAX_ID_LENGTH = 200;
export const DEFAULT_BATCH_SIZE = 500;

/**
 * An event id already stored somewhere else than this append expects: in another stream, with
 * another type, or only some of the batch's ids. Appending it again would break "ids are unique".
 */
export class DuplicateEventError extends DomainError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('CONFLICT', message, details);
  }
}

/** A validated event with everything but its place in the store (stream version, position). */
export interface PreparedEvent {
  readonly id: string;
  /** True when the caller chose the id (only then can it already be stored). */
  readonly idSupplied: boolean;
  readonly type: EventType;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: Actor | null;
  readonly metadata: EventMetadata;
  readonly payload: unknown;
}

export function checkStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_ID_LENGTH) {
    throw new DomainError('BAD_USER_INPUT', `A stream id must be a non-empty string of at most ${MAX_ID_LENGTH} characters.`, {
      streamId: String(streamId),
    });
  }
}

function isoInstant(value: string, field: string, type: string): string {
  const time = parseRfc3339(value);
  if (time === null) {
    throw new EventContractError('INVALID_EVENT', `Invalid ${type} event: ${field} "${String(value).slice(0, 40)}" is not an RFC 3339 time.`, {
      type,
      field,
    });
  }
  // The envelope's time range: an event dated outside it cannot be appended (nor break a transport).
  if (!isPlausibleInstant(time)) {
    throw new EventContractError('INVALID_EVENT', `Invalid ${type} event: ${field} ${value} is outside ${new Date(EARLIEST_INSTANT_MS).toISOString()} to ${new Date(LATEST_INSTANT_MS).toISOString()}.`, {
      type,
      field,
    });
  }
  // One format (UTC, milliseconds) so that times compare as strings in every adapter.
  return new Date(time).toISOString();
}

/**
 * Validate every event against the schema registry and stamp the envelope fields. Throws
 * EventContractError (unknown type, invalid payload) or DuplicateEventError (an id twice in one
 * batch) before anything is written, so a refused append stores nothing.
 */
export function prepareEvents(events: readonly AnyNewEvent[], context: CausationContext, clock: Clock): PreparedEvent[] {
  if (!Array.isArray(events)) throw new TypeError('append(): events must be an array.');
  const recordedAt = clock.now().toISOString();
  const seen = new Set<string>();
  return events.map((event): PreparedEvent => {
    const type = event.type;
    // validatePayload refuses a type outside the catalog, so `type` is an EventType afterwards.
    const payload: unknown = validatePayload(type, event.payload);
    const idSupplied = event.id !== undefined;
    // Time-ordered (UUIDv7): each new id, and every key built on it (`crm:<event id>` markers and
    // effect records), lands next to the last one in its B-tree index instead of on a random page.
    const id = event.id ?? timeOrderedUuid();
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new EventContractError('INVALID_EVENT', `Invalid ${type} event: its id must be a non-empty string of at most ${MAX_ID_LENGTH} characters.`, {
        type,
      });
    }
    if (seen.has(id)) throw new DuplicateEventError(`Event id ${id} appears twice in one append.`, { eventId: id });
    seen.add(id);
    return {
      id,
      idSupplied,
      type,
      schemaVersion: currentVersion(type),
      occurredAt: event.occurredAt === undefined ? recordedAt : isoInstant(event.occurredAt, 'occurredAt', type),
      recordedAt,
      correlationId: context.correlationId,
      causationId: context.causationId ?? null,
      actor: context.actor ?? null,
      metadata: { ...event.metadata, replay: event.metadata?.replay ?? false },
      payload,
    };
  });
}

/**
 * Throws ConcurrencyError when a stream at `actual` is not what the caller expected.
 * 'no_stream' is the same as 0; 'any' accepts every version.
 */
export function checkExpectedVersion(streamId: string, expected: ExpectedVersion, actual: number): void {
  if (expected === 'any') return;
  const wanted = expected === 'no_stream' ? 0 : expected;
  if (typeof wanted !== 'number' || !Number.isInteger(wanted) || wanted < 0) {
    throw new DomainError('BAD_USER_INPUT', `expectedVersion must be a non-negative integer, 'no_stream' or 'any', not ${String(expected)}.`, {
      streamId,
    });
  }
  if (wanted !== actual) throw new ConcurrencyError(streamId, expected, actual);
}

/** What an adapter found stored under the ids of an append. */
export interface StoredIdentity {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
}

/**
 * Decide what to do with ids that are already stored. 'new': none are, append normally.
 * 'replay': every id is stored in this stream with the same type, so the append already happened
 * and is a no-op. Anything else (another stream, another type, only part of the batch) is a
 * DuplicateEventError.
 */
export function classifyStoredIds(streamId: string, prepared: readonly PreparedEvent[], stored: readonly StoredIdentity[]): 'new' | 'replay' {
  if (stored.length === 0) return 'new';
  const byId = new Map(stored.map((s) => [s.id, s]));
  for (const s of stored) {
    if (s.streamId !== streamId) {
      throw new DuplicateEventError(`Event id ${s.id} is already stored in stream ${s.streamId}; an event id belongs to one stream.`, {
        eventId: s.id,
        streamId: s.streamId,
        attemptedStreamId: streamId,
      });
    }
  }
  const missing = prepared.filter((p) => !byId.has(p.id));
  if (missing.length > 0) {
    throw new DuplicateEventError(
      `Only some of this append's event ids are already stored in ${streamId}: re-send exactly the original batch, or new ids.`,
      { streamId, storedIds: stored.map((s) => s.id), newIds: missing.map((p) => p.id) },
    );
  }
  for (const p of prepared) {
    const s = byId.get(p.id);
    if (s && s.type !== p.type) {
      throw new DuplicateEventError(`Event id ${p.id} is already stored as a ${s.type}, not a ${p.type}.`, {
        eventId: p.id,
        storedType: s.type,
        attemptedType: p.type,
      });
    }
  }
  return 'replay';
}

/** The stored envelope of a prepared event, once the adapter knows its place. */
export function toEnvelope(event: PreparedEvent, streamId: string, streamVersion: number, position: number): AnyEventEnvelope {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    streamId,
    streamVersion,
    position,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    correlationId: event.correlationId,
    causationId: event.causationId,
    actor: event.actor,
    metadata: event.metadata,
    payload: event.payload,
  } as AnyEventEnvelope;
}

/** An envelope read back from storage, before its payload is brought to the current schema. */
export type StoredEnvelope = Omit<EventEnvelope, 'type' | 'payload'> & { readonly type: string; readonly payload: unknown };

/**
 * A stored envelope as readers see it: payloads written under an older schema version go through
 * the registry's upcasters (and the envelope then says the current version). Current-version
 * payloads were validated on append and are passed through as they are.
 */
export function readEnvelope(stored: StoredEnvelope): AnyEventEnvelope {
  const type = stored.type as EventType;
  let payload = stored.payload;
  let schemaVersion = stored.schemaVersion;
  const current = currentVersion(type);
  if (schemaVersion !== current) {
    payload = upcastPayload(type, schemaVersion, payload);
    schemaVersion = current;
  }
  return { ...stored, type, schemaVersion, payload } as AnyEventEnvelope;
}

/** The read options with defaults applied and checked. */
export interface ResolvedReadAll {
  readonly after: number;
  /** Inclusive upper bound on position (Infinity: up to the settled head). */
  readonly until: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly types: readonly EventType[] | null;
  readonly batchSize: number;
}

export function resolveReadAll(options: ReadAllOptions = {}): ResolvedReadAll {
  const after = options.after ?? 0;
  if (!Number.isInteger(after) || after < 0) throw new DomainError('BAD_USER_INPUT', `readAll: after must be a non-negative integer, not ${after}.`);
  const until = options.until ?? Number.POSITIVE_INFINITY;
  if (until !== Number.POSITIVE_INFINITY && (!Number.isInteger(until) || until < 0)) {
    throw new DomainError('BAD_USER_INPUT', `readAll: until must be a non-negative integer, not ${until}.`);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DomainError('BAD_USER_INPUT', `readAll: batchSize must be a positive integer, not ${batchSize}.`);
  }
  const time = (value: string | undefined, field: string): string | null => {
    if (value === undefined) return null;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new DomainError('BAD_USER_INPUT', `readAll: ${field} "${value}" is not an ISO-8601 time.`);
    return new Date(ms).toISOString();
  };
  return {
    after,
    until,
    from: time(options.from, 'from'),
    to: time(options.to, 'to'),
    types: options.types ? [...new Set(options.types)] : null,
    batchSize,
  };
}

/** Whether an envelope passes the time and type filters of a read. */
export function matchesReadAll(event: { recordedAt: string; type: string }, read: ResolvedReadAll): boolean {
  if (read.from !== null && event.recordedAt < read.from) return false;
  if (read.to !== null && event.recordedAt >= read.to) return false;
  if (read.types !== null && !read.types.includes(event.type as EventType)) return false;
  return true;
}

/** Whether a snapshot may replace the stored one: the latest (highest version) wins, ties overwrite. */
export function supersedes(next: Pick<Snapshot, 'version'>, stored: Pick<Snapshot, 'version'> | null): boolean {
  return stored === null || next.version >= stored.version;
}

export function checkSnapshot(snapshot: Snapshot<unknown>): void {
  checkStreamId(snapshot.streamId);
  if (!Number.isInteger(snapshot.version) || snapshot.version < 0) {
    throw new DomainError('BAD_USER_INPUT', `A snapshot's version must be a non-negative integer, not ${snapshot.version}.`, {
      streamId: snapshot.streamId,
    });
  }
}
