// Group commit on a real SQLite connection: one transaction per turn, results per write, a failed
// write alone rejected, a lost transaction rejecting its whole group.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../platform/clock';
import { openSqlite, SqliteGroupCommit } from '../../platform/sqlite';

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  const insert = db.prepare<[string, number]>('INSERT INTO t (id, n) VALUES (?, ?)');
  const rows = () => db.prepare<[], { id: string; n: number }>('SELECT id, n FROM t ORDER BY id').all();
  return { db, insert, rows, writes: new SqliteGroupCommit(db) };
}

describe('SqliteGroupCommit', () => {
  it('runs the writes of one turn in order in one transaction, each resolving with its result', async () => {
    const { db, insert, rows, writes } = setup();
    const begins: number[] = [];
    const a = writes.write(() => {
      begins.push(db.inTransaction ? 1 : 0);
      return insert.run('a', 1).changes;
    });
    const b = writes.write(() => db.prepare('UPDATE t SET n = n + 1 WHERE id = ?').run('a').changes);
    expect(rows()).toEqual([]); // queued, not run
    await expect(Promise.all([a, b])).resolves.toEqual([1, 1]);
    expect(begins).toEqual([1]);
    expect(rows()).toEqual([{ id: 'a', n: 2 }]);
    expect(db.inTransaction).toBe(false);
  });

  it('rejects a failing write alone; the rest of its group is committed', async () => {
    const { insert, rows, writes } = setup();
    const results = await Promise.allSettled([
      writes.write(() => insert.run('a', 1)),
      writes.write(() => insert.run('a', 2)), // primary key clash
      writes.write(() => insert.run('b', 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rows()).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 3 },
    ]);
  });

  it('rejects every write of a group whose transaction is lost, and stores none of them', async () => {
    const { db, insert, rows, writes } = setup();
    const results = await Promise.allSettled([
      writes.write(() => insert.run('a', 1)),
      writes.write(() => {
        db.exec('ROLLBACK'); // what SQLite does on its own after an I/O error
        throw new Error('disk I/O error');
      }),
      writes.write(() => insert.run('b', 2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/rolled back a group of 3 writes.*disk I\/O error/);
    expect(rows()).toEqual([]);
    // The next turn starts a fresh group.
    await writes.write(() => insert.run('c', 3));
    expect(rows()).toEqual([{ id: 'c', n: 3 }]);
  });

  it('flush() commits what is queued at once (before a close)', async () => {
    const { db, insert, rows, writes } = setup();
    const pending = writes.write(() => insert.run('a', 1));
    writes.flush();
    expect(rows()).toEqual([{ id: 'a', n: 1 }]);
    await pending;
    db.close();
    await expect(writes.write(() => 1)).rejects.toThrow(/closed/);
  });

  it('paced: after a group of several writes, the next commit waits for the interval, the writes issued meanwhile joining it; after a quiet interval, or a group of one, nothing waits', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const insert = db.prepare<[string, number]>('INSERT INTO t (id, n) VALUES (?, ?)');
    const ids = () => db.prepare<[], { id: string }>('SELECT id FROM t ORDER BY id').all().map((r) => r.id);
    const clock = new ManualClock();
    const writes = new SqliteGroupCommit(db, { minIntervalMs: 5, now: () => clock.now().getTime(), timers: clock });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const add = (id: string) => () => insert.run(id, 1).changes;

    // The first writes ever commit at the end of their turn, on no timer.
    await expect(Promise.all([writes.write(add('a')), writes.write(add('a2'))])).resolves.toEqual([1, 1]);
    expect(ids()).toEqual(['a', 'a2']);
    expect(clock.pendingTimers).toBe(0);

    // Within the interval: queued on a timer for the rest of it, across turns, joined by later writes.
    const b = writes.write(add('b'));
    await turn();
    clock.advance(2);
    const c = writes.write(add('c'));
    await turn();
    await turn();
    expect(ids()).toEqual(['a', 'a2']);
    expect(clock.pendingTimers).toBe(1); // one group, one timer
    clock.advance(3);
    await expect(Promise.all([b, c])).resolves.toEqual([1, 1]);
    expect(ids()).toEqual(['a', 'a2', 'b', 'c']);

    // After a quiet interval, the next write commits at the end of its turn again.
    clock.advance(5);
    await expect(writes.write(add('d'))).resolves.toBe(1);
    expect(ids()).toEqual(['a', 'a2', 'b', 'c', 'd']);
    expect(clock.pendingTimers).toBe(0);

    // A lone writer awaiting each write in turn is never paced: its groups hold one write.
    for (let i = 0; i < 20; i++) await writes.write(add(`e${String(i).padStart(2, '0')}`));
    expect(ids()).toHaveLength(25);
    expect(clock.pendingTimers).toBe(0);
  });

  it('paced: flush() still commits what waits at once (before a close)', async () => {
    const { db, insert, rows } = setup();
    const clock = new ManualClock();
    const writes = new SqliteGroupCommit(db, { minIntervalMs: 1000, now: () => clock.now().getTime(), timers: clock });
    await Promise.all([writes.write(() => insert.run('a', 1)), writes.write(() => insert.run('b', 2))]);
    const pending = writes.write(() => insert.run('c', 3));
    expect(clock.pendingTimers).toBe(1);
    writes.flush(true);
    await pending;
    expect(rows().map((r) => r.id)).toEqual(['a', 'b', 'c']);
    clock.advance(1000); // the timer finds nothing left to commit
    expect(rows()).toHaveLength(3);
  });

  it('waits for another process\'s write lock on a timer, without blocking the event loop, then commits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    const file = path.join(dir, 'db.sqlite');
    const other = openSqlite(file);
    other.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const mine = openSqlite(file);
    const writes = new SqliteGroupCommit(mine, { lockTimeoutMs: 10_000 });
    try {
      other.exec('BEGIN IMMEDIATE'); // the other process is writing
      let settled = false;
      const started = Date.now();
      const pending = writes.write(() => mine.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('a', 1)).then(() => (settled = true));
      // Timers still fire while the write waits: the loop is not asleep in SQLite's busy handler
      // (asleep there, these turns came only after the 10 s of the lock timeout).
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(settled).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
      other.exec('COMMIT');
      await pending;
      expect(other.prepare('SELECT id, n FROM t').all()).toEqual([{ id: 'a', n: 1 }]);
    } finally {
      mine.close();
      other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a lock held longer than its timeout, failing the group with SQLITE_BUSY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    const file = path.join(dir, 'db.sqlite');
    const other = openSqlite(file);
    other.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
    const mine = openSqlite(file);
    const writes = new SqliteGroupCommit(mine, { lockTimeoutMs: 20 });
    try {
      other.exec('BEGIN IMMEDIATE');
      await expect(writes.write(() => mine.prepare('INSERT INTO t (id) VALUES (?)').run('a'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      other.exec('ROLLBACK');
      await writes.write(() => mine.prepare('INSERT INTO t (id) VALUES (?)').run('b'));
      expect(other.prepare('SELECT id FROM t').all()).toEqual([{ id: 'b' }]);
    } finally {
      mine.close();
      other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
