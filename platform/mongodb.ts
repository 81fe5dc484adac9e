// MongoDB for the whole process: one MongoClient (one pool) shared by the event store and the
// document stores, one short server-selection timeout (MONGODB_TIMEOUT_MS) so an outage fails
// calls within seconds instead of 30 s, driver failures turned into coded errors, a readiness check
// that costs no more than one `ping` a second, and an outage logged once when it starts and once
// when it ends.
import {
  MongoBulkWriteError,
  MongoClient,
  MongoClientClosedError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  type Db,
  type TopologyDescription,
} from 'mongodb';
import { systemClock, type Clock } from './clock';
import { DomainError, UnavailableError } from './errors';
import { CachedHealthCheck, type BackendHealth } from './health';
import type { Logger } from './logger';
import { parseMongoUri, type MongoUri } from './mongodb-uri';

export const MONGODB = 'MongoDB';
export const DEFAULT_MONGODB_TIMEOUT_MS = 5000;
/** How long a readiness answer is reused: /ready may be polled often, MongoDB is pinged at most this often. */
export const READINESS_CACHE_MS = 1000;
const DUPLICATE_KEY = 11000;

/**
 * Server error codes that mean "not now" rather than "not this": the server or its primary is gone,
 * shutting down, stepping down or unreachable (the retryable-reads list of MongoDB's driver
 * specifications), and a write concern not satisfied in time.
 */
const UNAVAILABLE_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  64, // WriteConcernTimeout (wtimeout: not enough nodes confirmed the write)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** True for a driver error of the "MongoDB cannot be reached right now" kind (retrying later may work). */
export function isMongoUnavailable(error: unknown): boolean {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError || // also MongoNetworkTimeoutError and a cleared pool
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoStalePrimaryError
  ) {
    return true;
  }
  if (!(error instanceof MongoError)) return false;
  if (error.name === 'MongoWaitQueueTimeoutError') return true; // the pool had no connection in time
  if (error.hasErrorLabel(MongoErrorLabel.RetryableWriteError)) return true;
  if (typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code)) return true;
  // An insertMany refused by its write concern alone (no document refused): same as above.
  if (error instanceof MongoBulkWriteError && writeErrorsOf(error).length === 0) {
    const concern: unknown = (error as { err?: { code?: unknown } }).err?.code ?? error.code;
    return typeof concern === 'number' && UNAVAILABLE_CODES.has(concern);
  }
  if (error instanceof MongoWriteConcernError) return typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code);
  return false;
}

/**
 * What a caller should see of a driver error: "unavailable" kinds become UnavailableError
 * (`UNAVAILABLE`, retryable); coded errors and anything else pass unchanged (an unexpected error
 * stays an internal one, and is logged where it surfaces).
 */
export function codedMongoError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if (isMongoUnavailable(error)) return new UnavailableError(MONGODB, error);
  return error;
}

/** Await `operation`, turning a driver failure into its coded form (see codedMongoError). */
export async function mongoCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw codedMongoError(error);
  }
}

/** A duplicate-key refusal (code 11000), with what MongoDB says about it. */
export interface DuplicateKey {
  /** The unique index's name, from the server's message (`index: stream_version dup key`), if given. */
  readonly index: string | null;
  /** The index's fields, from `keyPattern` (in order), else [] when the server did not send it. */
  readonly fields: readonly string[];
  /** The clashing values (`keyValue`), when sent. */
  readonly value: Readonly<Record<string, unknown>> | null;
  /** For an insertMany: the position in the batch of the refused document. */
  readonly at: number | null;
}

interface WriteErrorLike {
  readonly code: number;
  readonly index: number;
  readonly errmsg?: string;
  readonly err?: unknown;
}

function writeErrorsOf(error: MongoBulkWriteError): WriteErrorLike[] {
  const errors: unknown = error.writeErrors;
  if (Array.isArray(errors)) return errors as WriteErrorLike[];
  return errors ? [errors as WriteErrorLike] : [];
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function duplicate(source: Record<string, unknown> | null, message: string, at: number | null): DuplicateKey {
  const pattern = record(source?.['keyPattern']);
  return {
    index: /index: (\S+) dup key/.exec(message)?.[1] ?? null,
    fields: pattern ? Object.keys(pattern) : [],
    value: record(source?.['keyValue']),
    at,
  };
}

/** The duplicate key an error reports (single write, or an insertMany's first refused document), or null. */
export function duplicateKeyOf(error: unknown): DuplicateKey | null {
  if (error instanceof MongoBulkWriteError) {
    const first = writeErrorsOf(error)[0];
    if (!first || first.code !== DUPLICATE_KEY) return null;
    return duplicate(record(first.err), first.errmsg ?? '', first.index);
  }
  if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
    return duplicate(error as unknown as Record<string, unknown>, error.message, null);
  }
  return null;
}

/** The first document an insertMany refused for another reason than a duplicate key, if any. */
export function firstWriteErrorOf(error: unknown): { readonly at: number; readonly code: number } | null {
  if (!(error instanceof MongoBulkWriteError)) return null;
  const first = writeErrorsOf(error)[0];
  return first ? { at: first.index, code: first.code } : null;
}

/** Rejects with `message` unless `promise` settles within `ms` (the timer never holds the process open). */
function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface MongoConnectionOptions {
  readonly uri: string;
  /** Server selection timeout of every operation, and the most a readiness ping may take. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  /** Where the start and end of an outage are logged (nothing is logged without one). */
  readonly logger?: Logger;
}

/**
 * One MongoClient with what the product needs around it. Constructing connects nothing (the driver
 * connects on `connect()` or the first operation), so a bad host fails there, as UNAVAILABLE.
 */
export class MongoConnection {
  readonly client: MongoClient;
  readonly target: MongoUri;
  readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly readiness: CachedHealthCheck;
  /** Whether the driver knows a server that takes writes (null until it has looked). */
  private writable: boolean | null = null;
  /** When the current outage began (clock ms), or null. */
  private downSince: number | null = null;
  private lastProblem = '';
  private closing: Promise<void> | null = null;

  constructor(options: MongoConnectionOptions) {
    this.target = parseMongoUri(options.uri);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_MONGODB_TIMEOUT_MS;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: this.timeoutMs,
      // Store what JSON would: an undefined field is left out, as in the SQLite adapters.
      ignoreUndefined: true,
    });
    this.client.on('topologyDescriptionChanged', (event) => this.observe(event.newDescription));
    this.readiness = new CachedHealthCheck({
      backend: MONGODB,
      clock: this.clock,
      cacheMs: READINESS_CACHE_MS,
      probe: async () => {
        await withDeadline(this.client.db('admin').command({ ping: 1 }), this.timeoutMs, `no answer to ping within ${this.timeoutMs} ms`);
      },
      knownDown: () => this.knownDown(),
      describe: (error) => (isMongoUnavailable(error) ? `unreachable (${messageOf(error)})` : messageOf(error)),
    });
  }

  /** The database the URI names (else `membership`), or another one of the same deployment. */
  db(name: string = this.target.databaseName): Db {
    return this.client.db(name);
  }

  /** Connect now (the start of a process), failing with UNAVAILABLE after the timeout. */
  async connect(): Promise<void> {
    await mongoCall(() => this.client.connect());
  }

  /** Readiness: down at once while the driver knows no writable server, else the last ping (≤ 1 s old). */
  health(): Promise<BackendHealth> {
    return this.readiness.check();
  }

  /** Closes the pool; idempotent (every store of the process may call it through backends.close()). */
  close(): Promise<void> {
    this.closing ??= this.client.close();
    return this.closing;
  }

  private knownDown(): string | null {
    if (this.closing) return 'the connection is closed';
    if (this.writable !== false) return null;
    return `no writable server (primary) reachable${this.lastProblem ? `: ${this.lastProblem}` : ''}`;
  }

  /** Follows the driver's view of the deployment, logging an outage once as it starts and once as it ends. */
  private observe(description: TopologyDescription): void {
    if (this.closing) return;
    const servers = [...description.servers.values()];
    const writable = servers.some((server) => server.isWritable);
    const problem = description.error ?? servers.find((server) => server.error)?.error ?? null;
    if (problem) this.lastProblem = messageOf(problem);
    const before = this.writable;
    this.writable = writable;
    // Before the first writable server is found, the process is still starting: not an outage.
    if (before === true && !writable) {
      this.downSince = this.clock.now().getTime();
      this.logger?.warn(
        { backend: MONGODB, hosts: this.target.display, problem: this.lastProblem || undefined },
        'MongoDB unavailable: no writable server reachable; calls fail with UNAVAILABLE until it is back (logged again when it is)',
      );
    } else if (before === false && writable && this.downSince !== null) {
      const downForMs = this.clock.now().getTime() - this.downSince;
      this.downSince = null;
      this.lastProblem = '';
      this.logger?.info({ backend: MONGODB, hosts: this.target.display, downForMs }, 'MongoDB available again');
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
