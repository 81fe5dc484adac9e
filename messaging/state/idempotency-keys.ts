// Idempotency keys of creating mutations (collection `idempotency_keys`), as payment APIs have them:
// a client that lost the answer sends the same request with the same key and gets the first result,
// not a second order or a second charge; the same key with a different request is a CONFLICT. A key
// is scoped to its caller (role and subject) and operation, and remembered for 24 hours.
//
// The first request with a key records, atomically, the id of what it creates and a hash of the
// request; a repeat (or a concurrent twin, in any process) finds the record and creates under that
// same id, which the event store turns into one creation: the twins' appends meet at expected version
// 0 or at the same deterministic event ids, so only one is stored and both answer it.
import { createHash, randomUUID } from 'node:crypto';
import type { Identity } from '../../platform/auth';
import type { Clock } from '../../platform/clock';
import { ConcurrencyError, DomainError, isDomainError } from '../../platform/errors';
import { checkIdempotencyKey } from '../../platform/idempotency-key';
import type { DocumentCollection, DocumentStore } from './document-store';

export const IDEMPOTENCY_KEYS_COLLECTION = 'idempotency_keys';
/** How long a key is remembered: a repeat within it gets the first result; after it, a key is new again. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

interface IdempotencyKeyDoc {
  /** Hash of operation, caller and key: callers never see each other's keys. */
  readonly id: string;
  readonly operation: string;
  readonly requestHash: string;
  /** The id of what the first request creates; repeats create (or find) the same. */
  readonly resultId: string;
  /** Which request wrote this record (so that request knows it came first). */
  readonly claim: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** What a creating command does, for the idempotency layer to run it once per key. */
export interface Creation<T> {
  /** The id a new creation gets (a fresh one, or one fixed by the input such as a member's own id). */
  newId(): string;
  /** What was created under `id` before, or null. */
  find(id: string): Promise<T | null>;
  /** Create under `id`. Two calls with one id must store one thing (expected version 0, deterministic event ids). */
  create(id: string): Promise<T>;
}

export interface IdempotentRequest {
  /** The mutation, e.g. `createOrder`. */
  readonly operation: string;
  readonly caller: Pick<Identity, 'sub' | 'role'>;
  /** The client's key; null runs the creation as usual. */
  readonly key: string | null;
  /** What makes two requests the same (the key itself left out). */
  readonly input: unknown;
}

/** JSON with keys sorted and null or undefined fields dropped: the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A refusal that stored nothing: the key is released, so the corrected request may use it again. */
function isRefusal(error: unknown): boolean {
  return isDomainError(error) && error.code !== 'UNAVAILABLE' && !(error instanceof ConcurrencyError);
}

export class IdempotencyKeys {
  private readonly keys: DocumentCollection<IdempotencyKeyDoc>;

  constructor(
    documents: DocumentStore,
    private readonly clock: Clock,
    private readonly ttlMs: number = IDEMPOTENCY_KEY_TTL_MS,
  ) {
    this.keys = documents.collection<IdempotencyKeyDoc>(IDEMPOTENCY_KEYS_COLLECTION, { indexes: ['expiresAt'] });
  }

  /** Run `creation` once per (caller, operation, key); without a key, simply run it. */
  async run<T>(request: IdempotentRequest, creation: Creation<T>): Promise<T> {
    if (request.key === null) return creation.create(creation.newId());
    const key = checkIdempotencyKey(request.key);
    const id = sha256(`${request.operation}\n${request.caller.role}:${request.caller.sub}\n${key}`);
    const requestHash = sha256(canonical(request.input));
    const now = this.clock.now();
    const claim = randomUUID();
    const candidate: IdempotencyKeyDoc = {
      id,
      operation: request.operation,
      requestHash,
      resultId: creation.newId(),
      claim,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    // One atomic step decides which request is first, across processes: an unexpired record stays.
    const record = await this.keys.update(id, (current) => (current && current.expiresAt > candidate.createdAt ? null : candidate));
    if (!record) throw new DomainError('UNAVAILABLE', 'The idempotency key could not be recorded: try again.');
    if (record.requestHash !== requestHash) {
      throw new DomainError(
        'CONFLICT',
        `Idempotency key ${JSON.stringify(key)} was used for a different ${request.operation} request: send the same request to get its result, or use a new key.`,
        { field: 'idempotencyKey' },
      );
    }
    const first = record.claim === claim;
    if (!first) {
      const earlier = await creation.find(record.resultId);
      if (earlier) return earlier;
    }
    try {
      return await creation.create(record.resultId);
    } catch (error) {
      // A twin with the same key created it a moment before: its result is ours.
      if (error instanceof ConcurrencyError) {
        const created = await creation.find(record.resultId);
        if (created) return created;
      }
      if (first && isRefusal(error)) {
        const current = await this.keys.get(id);
        if (current?.claim === claim) await this.keys.delete(id);
      }
      throw error;
    }
  }

  /** Forget keys past their time (a worker calls this now and then); returns how many. */
  async prune(limit = 500): Promise<number> {
    const now = this.clock.now().toISOString();
    const due = (await this.keys.find({ orderBy: { field: 'expiresAt' }, limit })).filter((k) => k.expiresAt <= now);
    let removed = 0;
    for (const doc of due) if (await this.keys.delete(doc.id)) removed++;
    return removed;
  }
}
