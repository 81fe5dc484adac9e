// Turns tracked activity (the `trackActivity` inputs) into activity events, refusing the whole batch
// with a coded error naming the field when any entry is bad: unknown type, missing field, a time that
// is not strict RFC 3339 or out of range (before 2000, ahead of the clock), someone else's activity
// for a member, a malformed batch. Pure: `now` is passed in.
import type { Identity } from '../../../platform/auth';
import { ForbiddenError, ValidationError } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import { DEFAULT_MAX_FUTURE_SKEW_MS, parseEventTime } from '../../../platform/instants';
import type { AnyNewEvent } from '../../../messaging/events/envelope';
import { unsafeCharacterIn } from '../../../platform/safe-text';

/** The activity types a client may track (payment and member events come from their own services). */
export const trackableTypes = ['member.login', 'member.profile.viewed', 'course.started', 'course.completed', 'support.ticket.opened'] as const;
export type TrackableType = (typeof trackableTypes)[number];

export interface ActivityInput {
  readonly memberId: string;
  readonly type: string;
  /** ISO-8601; the time the activity happened (event time). Default: now. */
  readonly occurredAt?: string | null;
  /** The client's id for the activity: makes a retried call store nothing new. */
  readonly activityId?: string | null;
  readonly location?: string | null;
  readonly ip?: string | null;
  readonly device?: string | null;
  readonly profileId?: string | null;
  readonly courseId?: string | null;
  readonly ticketId?: string | null;
  readonly subject?: string | null;
}

export interface ActivityLimits {
  /** How far in the future an activity may be dated (client clocks drift). */
  readonly maxFutureSkewMs: number;
  readonly maxBatch: number;
}

export const defaultActivityLimits: ActivityLimits = { maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS, maxBatch: 500 };

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export type ActivityEvent = Extract<AnyNewEvent, { type: TrackableType }> & { readonly id: string; readonly occurredAt: string };

function text(value: string | null | undefined, field: string, max = 200): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > max) throw new ValidationError(`${field} must be 1 to ${max} characters (omit it rather than send it blank).`, { field });
  const unsafe = unsafeCharacterIn(trimmed);
  if (unsafe) throw new ValidationError(`${field} may not contain ${unsafe}.`, { field });
  return trimmed;
}

/** The optional fields each type takes; another one given is a mistake, refused rather than dropped. */
const fieldsOf: Readonly<Record<TrackableType, readonly (keyof ActivityInput)[]>> = {
  'member.login': ['location', 'ip', 'device'],
  'member.profile.viewed': ['profileId'],
  'course.started': ['courseId'],
  'course.completed': ['courseId'],
  'support.ticket.opened': ['ticketId', 'subject'],
};
const typeSpecificFields: readonly (keyof ActivityInput)[] = ['location', 'ip', 'device', 'profileId', 'courseId', 'ticketId', 'subject'];

/** A client-chosen id: 1 to 128 visible ASCII characters (no spaces or controls). */
const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

function requiredId(value: string | null | undefined, field: string, type: string): string {
  if (value === undefined || value === null) throw new ValidationError(`${field} is required for ${type}.`, { field });
  if (!ID.test(value)) throw new ValidationError(`${field} must be 1 to 64 letters, digits, ".", ":", "-" or "_".`, { field });
  return value;
}

/**
 * Validate a batch and build its events (ids derived from the batch id and each entry's position or
 * activityId, so a retried batch maps to the same events). Throws before building anything stored.
 */
export function activityEvents(
  identity: Identity,
  inputs: readonly ActivityInput[],
  batchId: string,
  now: Date,
  limits: ActivityLimits = defaultActivityLimits,
): ActivityEvent[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ValidationError('A batch needs at least one activity.', { field: 'inputs' });
  if (inputs.length > limits.maxBatch) {
    throw new ValidationError(`A batch holds at most ${limits.maxBatch} activities; split it.`, { field: 'inputs' });
  }
  const seen = new Set<string>();
  return inputs.map((input, index): ActivityEvent => {
    const at = (field: string) => (inputs.length === 1 ? `input.${field}` : `inputs[${index}].${field}`);
    if (!ID.test(input.memberId ?? '')) throw new ValidationError('memberId must be 1 to 64 letters, digits, ".", ":", "-" or "_".', { field: at('memberId') });
    if (identity.role !== 'admin' && input.memberId !== identity.sub) {
      throw new ForbiddenError(`A member may only track its own activity (you are ${identity.sub}, not ${input.memberId}).`, { field: at('memberId') });
    }
    if (!(trackableTypes as readonly string[]).includes(input.type)) {
      throw new ValidationError(`Unknown activity type "${input.type}": use one of ${trackableTypes.join(', ')}.`, { field: at('type') });
    }
    const type = input.type as TrackableType;
    for (const field of typeSpecificFields) {
      if (input[field] !== undefined && input[field] !== null && !fieldsOf[type].includes(field)) {
        throw new ValidationError(`${field} does not apply to ${type} (it takes ${fieldsOf[type].join(', ') || 'none of them'}).`, { field: at(field) });
      }
    }
    const occurredAt =
      input.occurredAt === undefined || input.occurredAt === null
        ? now.toISOString()
        : parseEventTime(input.occurredAt, at('occurredAt'), now, limits.maxFutureSkewMs);
    const activityId = input.activityId ?? `${batchId}:${index}`;
    if (!CLIENT_ID.test(activityId)) throw new ValidationError('activityId must be 1 to 128 visible ASCII characters (no spaces).', { field: at('activityId') });
    if (seen.has(activityId)) throw new ValidationError(`activityId ${activityId} appears twice in the batch.`, { field: at('activityId') });
    seen.add(activityId);
    const id = deterministicUuid(`activity:${input.memberId}:${activityId}`);
    const memberId = input.memberId;
    switch (type) {
      case 'member.login':
        return {
          id,
          occurredAt,
          type,
          payload: { memberId, activityId, location: text(input.location, at('location')), ip: text(input.ip, at('ip'), 64), device: text(input.device, at('device')) },
        };
      case 'member.profile.viewed':
        return { id, occurredAt, type, payload: { memberId, activityId, profileId: requiredId(input.profileId, at('profileId'), type) } };
      case 'course.started':
      case 'course.completed':
        return { id, occurredAt, type, payload: { memberId, activityId, courseId: requiredId(input.courseId, at('courseId'), type) } };
      case 'support.ticket.opened':
        return {
          id,
          occurredAt,
          type,
          payload: { memberId, activityId, ticketId: requiredId(input.ticketId, at('ticketId'), type), subject: text(input.subject, at('subject')) },
        };
    }
  });
}
