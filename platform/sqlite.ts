// The embedded SQLite connections of the adapters: how they are opened, their group commit, and the
// thread that checkpoints their WAL (SqliteCheckpointer, at the end of this file).
//
// Group commit for an embedded SQLite connection (better-sqlite3). A commit is the expensive part of
// a small write (taking the file lock, writing and checksumming every touched page into the WAL):
// about 55 µs for a one-row insert against 13 µs inside a transaction. So writes are queued, and the
// writes issued in one turn of the event loop run together at `setImmediate`, in the order they were
// issued, in one IMMEDIATE transaction; each write's promise settles after that commit.
//
// Nothing else changes for callers: an awaited write is committed (as durable as a single commit),
// nobody, this connection included, reads a write before it is committed, and a caller never acts
// (acks a message, answers a request) on a write that is not. A write that throws (a unique clash, a
// failed concurrency check) rejects alone: SQLite undoes just that statement, or the savepoint of a
// nested `db.transaction`, and the others of the group commit. If the transaction itself fails (disk
// full, I/O error), every write of the group rejects and nothing of it is stored. The write lock is
// held only while the group runs, so other processes sharing the file wait microseconds, not a turn;
// and a group that finds the lock taken waits for it on a timer, never by sleeping the event loop.
//
// A connection may also pace its commits (`minIntervalMs`) while several writers share it: after a
// commit of more than one write, a write issued sooner than the interval waits for the rest of it,
// and the writes issued meanwhile join its group. A commit writes every page it touched to the WAL,
// two system calls each, and many pages are touched by every commit (the last leaf of an index on a
// position or a time, a hot document): under load, fewer and larger groups write them once instead
// of once per turn. When writes are rare nothing waits (the first write after a quiet interval
// commits at the end of its turn), and neither does a lone writer awaiting each write in turn (a
// rebuild, a prune): its groups hold one write, and pacing them would only slow it down.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { systemClock, type Timers } from './clock';
import { loggerFor } from './logger';

/** How long a statement waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** Tries of a write lock held by another process made right after pending I/O, then one per LOCK_RETRY_MS. */
const IMMEDIATE_LOCK_RETRIES = 20;
const LOCK_RETRY_MS = 1;

export interface OpenSqliteOptions {
  /** FULL syncs the WAL on every commit (survives an OS crash); NORMAL (default) survives a process crash. */
  readonly synchronous?: 'normal' | 'full';
  /** How long a statement waits for another process's lock (default BUSY_TIMEOUT_MS). */
  readonly busyTimeoutMs?: number;
  /**
   * Called before each new try when another process was switching the same new file to WAL at the
   * same moment (default: a debug log line).
   */
  readonly onWalSwitchBusy?: (attempt: number) => void;
}

/**
 * The WAL length (pages) at which a connection whose checkpointer thread runs checkpoints on its own,
 * inside a commit: only if the thread falls far behind. Such a checkpoint copies up to 160 MiB on
 * the event loop (about 200 ms on a two-core virtual machine).
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 40_000;

/** SQLite's own automatic checkpoint length (pages), for a connection without a checkpointer thread. */
export const OWN_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Hand the checkpoints back to the connection, as SQLite does by default (every 1,000 pages, inside
 * a commit): for a connection whose checkpointer thread has failed. Left at the fallback length, its
 * WAL grew to 160 MiB and every checkpoint then stalled the event loop for about 200 ms; at this
 * length each stalls it for a few milliseconds.
 */
export function checkpointOnOwn(db: Database.Database): void {
  if (db.open) db.pragma(`wal_autocheckpoint = ${OWN_AUTOCHECKPOINT_PAGES}`);
}

/** A cell to block on for a millisecond between tries at startup (never notified). */
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Open (creating its directory) an embedded database file, or ':memory:', as every adapter here wants
 * it: WAL (readers never block the writer, several processes share the file, the busy timeout making
 * a writer wait for another's lock), a 64 MiB page cache, and the WAL file kept under 128 MiB after a
 * checkpoint (above the length at which the checkpointer restarts it, RESTART_AFTER_FRAMES, so that
 * a restart does not also shrink the file that the next commits grow again). Checkpoints are the job
 * of a SqliteCheckpointer thread; the connection's own automatic checkpoint (run inside a commit, on
 * the event loop) only comes in at FALLBACK_AUTOCHECKPOINT_PAGES, should that thread fall behind, and
 * at SQLite's default again should it fail (checkpointOnOwn).
 */
export function openSqlite(file: string, options: OpenSqliteOptions = {}): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  const db = new Database(file, { timeout: busyTimeoutMs });
  switchToWal(db, file, busyTimeoutMs, options.onWalSwitchBusy);
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('cache_size = -65536');
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  db.pragma('journal_size_limit = 134217728');
  return db;
}

/**
 * Put a connection in WAL mode. The switch reads the file's header, then writes it in a second step
 * while still holding the read: when several processes open a new file at once (the product's
 * services starting together on an empty data directory), all but one find the write lock taken at
 * that step, and SQLite then fails with SQLITE_BUSY at once instead of waiting (waiting there could
 * deadlock). The switch is tried again until it succeeds (the winner has put the file in WAL mode,
 * and a file already in WAL mode needs no write) or the busy timeout has passed.
 */
function switchToWal(
  db: Database.Database,
  file: string,
  timeoutMs: number,
  onBusy = (attempt: number) => loggerFor('sqlite', { file }).debug({ attempt }, 'another process is switching the new database file to WAL; trying again'),
): void {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) {
        db.close();
        throw error;
      }
      onBusy(attempt);
      // Startup only, before the connection is used: a synchronous millisecond's wait.
      Atomics.wait(pauseCell, 0, 0, LOCK_RETRY_MS);
    }
  }
}

interface QueuedWrite {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions {
  /** How long a group waits for another process's write lock before its writes fail (SQLITE_BUSY). */
  readonly lockTimeoutMs?: number;
  /**
   * The shortest time from a commit of several writes to the next commit, in ms (default 0: every
   * group commits at the end of the turn of its first write). See the head of this file.
   */
  readonly minIntervalMs?: number;
  /** A monotonic clock in ms (default performance.now) and the timers a paced group waits on (tests pass a ManualClock's). */
  readonly now?: () => number;
  readonly timers?: Timers;
}

export class SqliteGroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  /** When this connection first found the write lock taken, in the current wait. */
  private lockedSince: number | null = null;
  /** Tries that found the lock taken in the current wait. */
  private lockMisses = 0;
  private prepared: { begin: Database.Statement; commit: Database.Statement } | null = null;
  private readonly lockTimeoutMs: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly timers: Timers;
  /** When the last group began its transaction (the `now` clock), null before the first. */
  private lastCommitAt: number | null = null;
  /** Writes in the last group: a group of one is not followed by a wait. */
  private lastGroupSize = 0;

  constructor(
    private readonly db: Database.Database,
    options: GroupCommitOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? BUSY_TIMEOUT_MS;
    this.minIntervalMs = Math.max(0, options.minIntervalMs ?? 0);
    this.now = options.now ?? (() => performance.now());
    this.timers = options.timers ?? systemClock;
  }

  /** Queue a synchronous write for the coming group; resolves with its result once committed. */
  write<R>(work: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // The timer keeps the process alive: a queued write is committed, not dropped at exit.
        const wait = this.lastCommitAt === null || this.lastGroupSize < 2 ? 0 : this.lastCommitAt + this.minIntervalMs - this.now();
        if (wait > 0) this.timers.setTimeout(() => this.flush(), wait);
        else setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Run and commit the queued writes now. Before the connection closes, `wait` makes it wait for
   * another process's write lock the blocking way (up to the busy timeout): there is no later.
   */
  flush(wait = false): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    if (!this.db.open) {
      const error = new Error('The SQLite database is closed.');
      for (const write of group) write.reject(error);
      return;
    }
    let begun: boolean;
    try {
      begun = this.begin(wait);
    } catch (error) {
      this.lockedSince = null;
      this.lockMisses = 0;
      for (const write of group) write.reject(error);
      return;
    }
    if (!begun) {
      // Another process holds the write lock. Wait for it without blocking this thread (SQLite's
      // own busy wait would sleep the whole event loop): the group goes back to the head of the
      // queue, writes issued meanwhile join it, and the lock is tried again shortly.
      this.queue = [...group, ...this.queue];
      this.scheduled = true;
      // Another process's group usually commits within a millisecond: look again after the
      // pending I/O, and only after a few misses fall back to a timer.
      if (++this.lockMisses <= IMMEDIATE_LOCK_RETRIES) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), LOCK_RETRY_MS);
      return;
    }
    this.lastCommitAt = this.now();
    this.lastGroupSize = group.length;
    const outcomes: Outcome[] = [];
    for (const write of group) {
      try {
        outcomes.push({ ok: true, value: write.work() });
      } catch (error) {
        outcomes.push({ ok: false, error });
        // Some failures (I/O, out of memory) roll back the whole transaction: the group is lost.
        if (!this.db.inTransaction) return this.failAll(group, error);
      }
    }
    try {
      this.statements().commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollbackQuietly();
      return this.failAll(group, error);
    }
    group.forEach((write, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  /**
   * BEGIN IMMEDIATE without waiting: true when this connection now holds the write lock, false when
   * another holds it (for less than `lockTimeoutMs` so far; past that, SQLite's busy error is thrown).
   */
  private begin(wait: boolean): boolean {
    try {
      // IMMEDIATE takes the write lock before the first read, so another process cannot slip a
      // write in between a check and the write that depends on it.
      const statements = this.statements();
      // Through pragma(), which prepares the statement each time: SQLite sets the busy timeout while
      // it prepares a PRAGMA, so a statement prepared once did nothing on its first run, and the first
      // lock met waited in SQLite's busy handler, the event loop asleep, for up to lockTimeoutMs.
      if (!wait) this.db.pragma('busy_timeout = 0');
      statements.begin.run();
      this.lockedSince = null;
      this.lockMisses = 0;
      return true;
    } catch (error) {
      if (wait || (error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      const now = Date.now();
      this.lockedSince ??= now;
      if (now - this.lockedSince >= this.lockTimeoutMs) throw error;
      return false;
    } finally {
      if (!wait) this.db.pragma(`busy_timeout = ${this.lockTimeoutMs}`);
    }
  }

  /** The group's own statements, prepared once (they run for every group). */
  private statements(): { begin: Database.Statement; commit: Database.Statement } {
    this.prepared ??= { begin: this.db.prepare('BEGIN IMMEDIATE'), commit: this.db.prepare('COMMIT') };
    return this.prepared;
  }

  private failAll(group: readonly QueuedWrite[], cause: unknown): void {
    const error = new Error(
      `SQLite rolled back a group of ${group.length} writes, none of which is stored: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    for (const write of group) write.reject(error);
  }

  private rollbackQuietly(): void {
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // Nothing more to undo; the writers are told of the commit's error.
    }
  }
}

/**
 * How often the checkpointer thread copies committed WAL pages back into the database file. Pages
 * rewritten by every commit (index leaves, checkpoints, counters) are copied once per checkpoint, so
 * a shorter interval costs more I/O for no gain; the WAL stays well under the 40,000-page fallback.
 */
const CHECKPOINT_INTERVAL_MS = 500;

/**
 * A WAL this long (frames, about 64 MiB) is restarted after its checkpoint. A PASSIVE checkpoint
 * copies the pages back but never lets the WAL start over under a steady write load: the writer
 * restarts it only when a transaction begins with every frame copied back, and the commits made
 * while the checkpoint ran are always there. The WAL then grew to the automatic-checkpoint fallback
 * (every read searching a longer index), where the owner's own connection checkpointed inside a
 * commit, on its event loop: commits of up to 28 ms at 200 mutations/s. A RESTART checkpoint after
 * the PASSIVE one copies the few frames committed meanwhile and syncs the database file, holding the
 * write lock for that long (the owner's group commit waits for it without blocking its event loop),
 * and the next commit starts the WAL from its beginning.
 * That hold is 5-17 ms on one virtual machine's disk (a median of 13 ms, up to 46, on another), and
 * every write of the file waits it out: at 200 mutations/s the document store's WAL grows by about
 * 4,000 pages a second, so restarting at 4,096 pages held the lock about once a second per file.
 * At 16,384, a quarter as often, for a WAL file of up to about 70 MiB (BENCHMARKS.md, issue 19).
 */
const RESTART_AFTER_FRAMES = 16_384;
/** How long a RESTART checkpoint waits for the write lock and for readers before trying next time. */
const RESTART_WAIT_MS = 100;

interface CheckpointReply {
  readonly id: number;
  readonly result?: CheckpointResult;
  readonly error?: string;
  /** A timed turn left to the thread that holds the file's checkpointer lock. */
  readonly standby?: true;
}

export interface CheckpointResult {
  /** 1 when another connection's checkpoint or a reader kept this one from finishing. */
  readonly busy: number;
  /** Pages in the WAL. */
  readonly log: number;
  /** Pages of it copied back into the database file. */
  readonly checkpointed: number;
  /** Whether the WAL was long enough to be restarted, and was (the next commit starts it over). */
  readonly restarted: boolean;
}

// The checkpointer thread. Plain JavaScript run with `eval`, so that it needs no compiled file of
// its own (the tests run the TypeScript sources).
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
// The write lock a RESTART takes is held by the owner's commits for microseconds at a time; a
// RESTART that cannot have it (or the readers' attention) within this long is left for next time.
db.pragma('busy_timeout = ' + workerData.restartWaitMs);
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');
// One thread checkpoints a file on its timer, whichever of the processes sharing it (and threads of
// one process) took the lock on the file beside it first, held as long as that thread runs; the
// system releases it should its process die, and another takes over at its next turn. Without a
// lock (the file beside cannot be made), every thread checkpoints on its timer, as before.
let lease = null;
try {
  lease = new Database(workerData.file + '-checkpointer', { timeout: 0 });
  lease.pragma('journal_mode = MEMORY');
} catch {
  lease?.close();
  lease = null;
}
let leading = lease === null;
const lead = () => {
  if (!leading) {
    try {
      lease.exec('BEGIN IMMEDIATE');
      leading = true;
    } catch (error) {
      if (typeof error.code !== 'string' || !error.code.startsWith('SQLITE_BUSY')) throw error;
    }
  }
  return leading;
};
const run = () => {
  try {
    const result = passive.get();
    if (result.busy === 0 && result.log >= workerData.restartAfterFrames) {
      const again = restart.get();
      if (again.busy === 0) return { result: { ...again, restarted: true } };
    }
    return { result: { ...result, restarted: false } };
  } catch (error) {
    return { error: error.message };
  }
};
const timer = setInterval(() => {
  let outcome;
  try {
    outcome = lead() ? run() : { standby: true };
  } catch (error) {
    outcome = { error: error.message };
  }
  if (outcome.error || workerData.report) parentPort.postMessage({ id: 0, ...outcome });
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.type === 'checkpoint') parentPort.postMessage({ id: message.id, ...run() });
  if (message.type === 'stop') {
    clearInterval(timer);
    lease?.close();
    db.close();
    parentPort.close();
  }
});
`;

/**
 * Keeps the WAL of a database file short from a thread of its own. A checkpoint copies the pages
 * committed to the WAL back into the database file and syncs both: under a steady write load that is
 * tens of megabytes and two fsyncs a second, which, run inside a commit as SQLite does by default,
 * froze the event loop for up to 100 ms every few seconds. A PASSIVE checkpoint on another connection
 * takes no write lock: commits go on meanwhile. Once the WAL is long, a RESTART checkpoint follows it
 * (RESTART_AFTER_FRAMES) so that the next commit starts the WAL from its beginning.
 * One per process and file; of those that share a file, one checkpoints it on its timer (the one
 * holding the lock on `<file>-checkpointer`), the others stand by: each would copy and sync the same
 * pages again, and a benchmark found the second one's syncs and WAL restarts holding the owner's
 * commits. ':memory:' databases have no WAL and get none.
 */
export class SqliteCheckpointer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    file: string,
    onCheckpoint: ((result: CheckpointResult) => void) | undefined,
    onStandby: (() => void) | undefined,
    onFailure: ((error: Error) => void) | undefined,
  ) {
    const logger = loggerFor('sqlite-checkpointer', { file });
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      logger.error({ err: error }, 'checkpointer thread failed; the connection checkpoints on its own again, inside its commits');
      onFailure?.(error);
    };
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: CheckpointReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // Nobody waits on the thread any more: it no longer keeps the process alive.
      if (waiter && this.pending.size === 0 && !this.stopped) worker.unref();
      if (waiter) {
        if (reply.result) waiter.resolve(reply.result);
        else waiter.reject(new Error(`SQLite checkpoint failed: ${reply.error ?? 'no result'}`));
      } else if (reply.error) {
        // The connection's own automatic checkpoint still bounds the WAL.
        logger.warn({ error: reply.error }, 'background checkpoint failed');
      } else if (reply.result) {
        onCheckpoint?.(reply.result);
      } else if (reply.standby) {
        onStandby?.();
      }
    });
    worker.on('error', fail);
    worker.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('The SQLite checkpointer has stopped.'));
      this.pending.clear();
      if (!this.stopped) fail(new Error(`The SQLite checkpointer thread exited with code ${code}.`));
    });
    // A thread that only tidies up never keeps the process alive.
    worker.unref();
  }

  /** Start one for a database file (null for ':memory:'). The file must exist, in WAL mode. */
  static start(
    file: string,
    options: {
      intervalMs?: number;
      /** WAL length (frames) from which a checkpoint also restarts the WAL (RESTART_AFTER_FRAMES). */
      restartAfterFrames?: number;
      /** Told the outcome of every timed checkpoint (for tests and diagnostics). */
      onCheckpoint?: (result: CheckpointResult) => void;
      /** Told of every timed turn left to another checkpointer of the same file (tests and diagnostics). */
      onStandby?: () => void;
      /**
       * Told once if the thread fails or ends before stop() (it no longer checkpoints): the owner then
       * checkpoints on its own again (checkpointOnOwn).
       */
      onFailure?: (error: Error) => void;
    } = {},
  ): SqliteCheckpointer | null {
    if (file === ':memory:' || file === '') return null;
    const worker = new Worker(CHECKPOINT_THREAD, {
      eval: true,
      // Not the process's command-line options: a module preloaded with --require (an agent, a
      // probe) would run in this thread too, and one that fails there would end the checkpoints.
      execArgv: [],
      workerData: {
        file: path.resolve(file),
        driver: require.resolve('better-sqlite3'),
        intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
        restartAfterFrames: options.restartAfterFrames ?? RESTART_AFTER_FRAMES,
        restartWaitMs: RESTART_WAIT_MS,
        report: options.onCheckpoint !== undefined || options.onStandby !== undefined,
      },
    });
    return new SqliteCheckpointer(worker, file, options.onCheckpoint, options.onStandby, options.onFailure);
  }

  /** Checkpoint now (what the thread does on its timer, whether or not it holds the lock); resolves with SQLite's counts. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.stopped) return Promise.reject(new Error('The SQLite checkpointer has stopped.'));
    const id = this.nextId++;
    // While a caller waits for the reply, the thread keeps the process alive: a process with nothing
    // else to do would otherwise end before it came.
    this.worker.ref();
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'checkpoint', id });
    });
  }

  /** Stop the thread and close its connection (before the owner closes its own). */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      // Waiting on an unreferenced thread, a process with nothing else to do would end right here,
      // in the middle of its shutdown, with the rest of it (the owner's last commit) never run.
      this.worker.ref();
      this.worker.postMessage({ type: 'stop' });
    }
    await this.exited;
  }
}
