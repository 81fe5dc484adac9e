// The idempotency key a client may send with a creating mutation: as the `idempotencyKey` input field,
// or as the `Idempotency-Key` HTTP header (the gateway forwards it to the subgraph), as payment APIs do.
import { ValidationError } from './errors';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
/** Visible ASCII (a UUID, a ULID, `order-2025-0001`...): it travels in an HTTP header too. */
const KEY = /^[\x21-\x7e]+$/;

export function checkIdempotencyKey(key: unknown, field = 'idempotencyKey'): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !KEY.test(key)) {
    throw new ValidationError(`${field} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (a UUID is a good one).`, { field });
  }
  return key;
}

/** The raw header value of a request (the first one if repeated), or null. */
export function idempotencyHeaderOf(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}
