// The event envelope: what every stored and published event looks like, end to end.
import { z } from 'zod';
import type { EventPayload, EventType } from './catalog';

/** Who caused an event: a member acting on itself, an admin, or the system (workers, schedulers). */
export interface Actor {
  readonly id: string;
  readonly role: 'member' | 'admin' | 'system';
}

/** Set on events delivered by the replay service; consumers skip side effects when present. */
export interface ReplayInfo {
  readonly replayId: string;
  readonly originalPosition: number;
  /** The replay batch (message) the event travelled in, `<first>-<last>` original positions: its
   * consumers record what they processed once per batch instead of once per event. */
  readonly batch?: string;
}

export interface EventMetadata {
  /** True only on a replayed delivery: handlers must not repeat side effects. */
  readonly replay: boolean;
  readonly replayInfo?: ReplayInfo;
  /** Free-form extra metadata (string values only, so it survives every transport). */
  readonly [key: string]: unknown;
}

/** A stored event. `position` is the global, gap-free-once-settled order in the store. */
export interface EventEnvelope<T extends EventType = EventType> {
  readonly id: string;
  readonly type: T;
  readonly schemaVersion: number;
  readonly streamId: string;
  /** 1-based version of the stream after this event. */
  readonly streamVersion: number;
  /** Global position, strictly increasing in commit order once settled (1-based). */
  readonly position: number;
  /** ISO-8601 with milliseconds. */
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: Actor | null;
  readonly metadata: EventMetadata;
  readonly payload: EventPayload<T>;
}

/** Any envelope, discriminated on `type` so that a switch narrows the payload. */
export type AnyEventEnvelope = { [T in EventType]: EventEnvelope<T> }[EventType];

/** An event a command wants to append; the store fills in position, versions and times. */
export interface NewEvent<T extends EventType = EventType> {
  /** Supply an id to make the append idempotent across retries; generated otherwise. */
  readonly id?: string;
  readonly type: T;
  readonly payload: EventPayload<T>;
  /** Defaults to the store's clock at append time. */
  readonly occurredAt?: string;
  readonly metadata?: Partial<EventMetadata>;
}

export type AnyNewEvent = { [T in EventType]: NewEvent<T> }[EventType];

/** Correlation data of the request or message that causes an append. */
export interface CausationContext {
  readonly correlationId: string;
  readonly causationId?: string | null;
  readonly actor?: Actor | null;
}

const must = (rule: string) => ({ error: `must be ${rule}` });

/**
 * What a consumer requires of a received envelope before the catalog checks its payload (and type).
 * Other fields pass through as they are. Each issue's message says what its field must be.
 */
export const receivedEnvelopeSchema = z.looseObject(
  {
    id: z.string(must('a non-empty string')).min(1, must('a non-empty string')),
    type: z.string(must('a non-empty string')).min(1, must('a non-empty string')),
    // Any whole number (not zod's .int(), which stops at 2^53): a version too new is the catalog's to refuse.
    schemaVersion: z.number(must('a positive integer')).refine(Number.isInteger, must('a positive integer')).min(1, must('a positive integer')),
    correlationId: z.string(must('a string')),
    metadata: z.looseObject({}, must('an object')),
  },
  { error: 'must be a JSON object' },
);
