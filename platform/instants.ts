// Times given by clients, checked once: strict RFC 3339 (a full date, a time and a timezone; no
// `Date.parse` guessing, which takes "1" or "March 7") and a plausible range. The event store applies
// the same absolute range to every envelope, so no event dated outside it can be appended, whoever
// appends it (an event dated year 1 once stopped all delivery: AMQP timestamps cannot be negative).
import { ValidationError } from './errors';

/** No event of this product is older: anything earlier is a mistake or an attack. */
export const EARLIEST_INSTANT_MS = Date.UTC(2000, 0, 1);
/** Exclusive upper bound of any stored or queried time (expiry dates reach years ahead, not centuries). */
export const LATEST_INSTANT_MS = Date.UTC(2100, 0, 1);
/** How far ahead of the server's clock a client may date an event (client clocks drift). */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

const EARLIEST_TEXT = new Date(EARLIEST_INSTANT_MS).toISOString();
const LATEST_TEXT = new Date(LATEST_INSTANT_MS).toISOString();

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the epoch of an RFC 3339 date-time, or null when `text` is not one (fields out of range included). */
export function parseRfc3339(text: unknown): number | null {
  if (typeof text !== 'string' || text.length > 40) return null;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC maps years 0-99 to 1900-1999; those are out of range anyway, so the check below refuses them.
  return year < 100 ? Number.NEGATIVE_INFINITY : utc - offsetMinutes * 60_000;
}

/** Whether a time lies in [2000-01-01, 2100-01-01). */
export function isPlausibleInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_INSTANT_MS && ms < LATEST_INSTANT_MS;
}

function outOfRange(value: string, field: string): ValidationError {
  return new ValidationError(`${field} ${value} is out of range: give a time from ${EARLIEST_TEXT} up to (not including) ${LATEST_TEXT}.`, { field });
}

/**
 * A time (from a `DateTimeISO` argument, already parsed) inside the plausible range, as ISO-8601 UTC.
 * For query bounds and ranges such as `expiringBefore` or a replay's `from` and `to`.
 */
export function checkInstant(value: Date, field: string): string {
  const ms = value.getTime();
  if (!isPlausibleInstant(ms)) throw outOfRange(Number.isFinite(ms) ? value.toISOString() : 'Invalid Date', field);
  return value.toISOString();
}

/**
 * When something happened, as a client says: strict RFC 3339 with a timezone, not before 2000 and
 * not more than `maxFutureSkewMs` ahead of `now` (the injected clock). Answers ISO-8601 UTC with
 * milliseconds; throws BAD_USER_INPUT naming `field` otherwise.
 */
export function parseEventTime(value: string, field: string, now: Date, maxFutureSkewMs: number = DEFAULT_MAX_FUTURE_SKEW_MS): string {
  const ms = parseRfc3339(value);
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  if (ms === null) {
    throw new ValidationError(`${field} ${shown} is not an RFC 3339 date-time with a timezone, such as 2025-01-15T10:00:00Z.`, { field });
  }
  if (!isPlausibleInstant(ms)) throw outOfRange(shown, field);
  if (ms > now.getTime() + maxFutureSkewMs) {
    throw new ValidationError(`${field} ${shown} is in the future (more than ${Math.round(maxFutureSkewMs / 1000)} s ahead of the server).`, { field });
  }
  return new Date(ms).toISOString();
}
