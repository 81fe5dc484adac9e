// Opening an embedded database file that other processes are opening at the same moment: the
// services of the product start together on an empty data directory, and each switches the new
// file to WAL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openSqlite } from '../../platform/sqlite';

// Another connection, on a thread of its own, holding the write lock of a file still in rollback
// mode (as a process does while it switches the file to WAL) until told to commit.
const LOCK_HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.exec('BEGIN IMMEDIATE');
db.exec("INSERT INTO t (a) VALUES ('from the other connection')");
parentPort.postMessage('locked');
const cells = new Int32Array(workerData.cells);
Atomics.wait(cells, 0, 0); // until the opener has found the lock taken
db.exec('COMMIT');
db.close();
Atomics.store(cells, 1, 1);
Atomics.notify(cells, 1);
`;

describe('openSqlite', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-open-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function rollbackModeFile(): string {
    const file = path.join(dir, 'new.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (a TEXT)');
    db.close();
    return file;
  }

  /** Another connection holding the file's write lock, as a process switching it to WAL does. */
  function holdWriteLock(file: string): { release(): void } {
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    return {
      release: () => {
        holder.exec('ROLLBACK');
        holder.close();
      },
    };
  }

  it("fails with SQLITE_BUSY on SQLite's own switch to WAL while another connection holds the write lock, even with a busy timeout", () => {
    const file = rollbackModeFile();
    const lock = holdWriteLock(file);
    const opener = new Database(file, { timeout: 5000 });
    try {
      // The switch holds a read while it asks for the write lock: SQLite does not wait (that could
      // deadlock) but fails. This is what the services starting together ran into.
      expect(() => opener.pragma('journal_mode = WAL')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    } finally {
      opener.close();
      lock.release();
    }
  });

  it('tries the switch again until the other connection has let go, and opens the file in WAL mode', async () => {
    const file = rollbackModeFile();
    const cells = new SharedArrayBuffer(8);
    const worker = new Worker(LOCK_HOLDER, { eval: true, workerData: { driver: require.resolve('better-sqlite3'), file, cells } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await new Promise((resolve) => worker.once('message', resolve));

    const attempts: number[] = [];
    const shared = new Int32Array(cells);
    const db = openSqlite(file, {
      onWalSwitchBusy: (attempt) => {
        attempts.push(attempt);
        if (attempt > 1) return;
        Atomics.store(shared, 0, 1);
        Atomics.notify(shared, 0);
        Atomics.wait(shared, 1, 0); // until the other connection has committed
      },
    });
    try {
      expect(attempts).toEqual([1]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT a FROM t').all()).toEqual([{ a: 'from the other connection' }]);
    } finally {
      db.close();
      await exited;
    }
  });

  it('gives up with the SQLITE_BUSY error once its busy timeout has passed', () => {
    const file = rollbackModeFile();
    const lock = holdWriteLock(file);
    let attempts = 0;
    try {
      expect(() => openSqlite(file, { busyTimeoutMs: 50, onWalSwitchBusy: () => (attempts += 1) })).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      expect(attempts).toBeGreaterThan(0);
    } finally {
      lock.release();
    }
  });
});
