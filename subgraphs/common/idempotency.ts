// How the graph documents the idempotency key of its creating mutations (one text for all of them).
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../platform/idempotency-key';

export const IDEMPOTENCY_KEY_DESCRIPTION =
  `Your key for this request (1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters, e.g. a UUID; or send the Idempotency-Key header): ` +
  'a repeat with the same key and the same input within 24 hours answers the first result instead of creating again; the same key with another input is CONFLICT.';
