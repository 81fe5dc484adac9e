// The WAL checkpointer thread on a real database file: it copies committed pages back into the
// database file off the event loop, on its timer and on demand, while the owner's connection never
// checkpoints on its own; it stops cleanly, and ':memory:' databases get none.
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite, OWN_AUTOCHECKPOINT_PAGES, SqliteCheckpointer, type CheckpointResult } from '../../platform/sqlite';

function database(): { file: string; db: Database.Database; insert: (n: number) => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checkpointer-'));
  const file = path.join(dir, 'db.sqlite');
  const db = openSqlite(file);
  // Only the checkpointer may copy pages back in these tests.
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const statement = db.prepare<[string]>('INSERT INTO t (body) VALUES (?)');
  const insert = (n: number) => {
    for (let i = 0; i < n; i++) statement.run('x'.repeat(2000));
  };
  return { file, db, insert };
}

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0)) await stop();
});

function started(file: string, options: Parameters<typeof SqliteCheckpointer.start>[1] = {}): SqliteCheckpointer {
  const checkpointer = SqliteCheckpointer.start(file, options);
  if (!checkpointer) throw new Error('expected a checkpointer for a file');
  stoppers.push(() => checkpointer.stop());
  return checkpointer;
}

describe('SqliteCheckpointer', () => {
  it('copies every committed WAL page back into the database file when asked', async () => {
    const { file, db, insert } = database();
    // A long interval: only the explicit checkpoint runs in this test.
    const checkpointer = started(file, { intervalMs: 3_600_000 });
    insert(200);
    const result = await checkpointer.checkpoint();
    expect(result.busy).toBe(0);
    expect(result.log).toBeGreaterThan(100); // 200 rows of 2 KB: at least 100 pages
    expect(result.checkpointed).toBe(result.log);
    // Everything committed is readable, and the database file now holds it.
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 200 });
    expect(fs.statSync(file).size).toBeGreaterThan(100 * 4096);
    db.close();
  });

  it('checkpoints on its own timer, while the owning connection goes on committing', async () => {
    const { file, db, insert } = database();
    const results: CheckpointResult[] = [];
    let notify: (() => void) | null = null;
    started(file, {
      intervalMs: 5,
      onCheckpoint: (result) => {
        results.push(result);
        notify?.();
      },
    });
    insert(50);
    // Wait (on the thread's reports, not on a clock) for a timed checkpoint that copied pages.
    await new Promise<void>((resolve) => {
      notify = () => {
        if (results.some((r) => r.checkpointed > 0)) resolve();
      };
      notify();
    });
    insert(50); // the WAL restarts after a complete checkpoint; commits go on as before
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 100 });
    db.close();
  });

  it('restarts a long WAL although commits go on during every checkpoint', async () => {
    const { file, db } = database();
    // The owner commits from a thread of its own, one small transaction after another for as long
    // as the test runs: every checkpoint overlaps commits, so a PASSIVE checkpoint alone would
    // never see the whole WAL copied back when a transaction begins, and the WAL would only grow.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const writer = new Worker(
      `const { workerData } = require('node:worker_threads');
      const Database = require(workerData.driver);
      const db = new Database(workerData.file, { timeout: 5000 });
      db.pragma('wal_autocheckpoint = 0');
      const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
      const stop = new Int32Array(workerData.stop);
      while (Atomics.load(stop, 0) === 0) {
        insert.run('x'.repeat(2000));
        Atomics.wait(stop, 0, 0, 0.2);
      }
      db.close();`,
      { eval: true, workerData: { file, driver: require.resolve('better-sqlite3'), stop: stop.buffer } },
    );
    const writerDone = new Promise((resolve) => writer.once('exit', resolve));
    // Stopped however the test ends (a failed wait included), so that it never outlives the test.
    stoppers.push(async () => {
      Atomics.store(stop, 0, 1);
      await writerDone;
    });
    const results: CheckpointResult[] = [];
    let notify: (() => void) | null = null;
    started(file, {
      intervalMs: 5,
      restartAfterFrames: 50,
      onCheckpoint: (result) => {
        results.push(result);
        notify?.();
      },
    });
    // After a restart the WAL starts over with the next commit: the first checkpoint that finds the
    // WAL changed (a checkpoint between the restart and that commit still sees the old length).
    const afterRestart = (): CheckpointResult | undefined => {
      const first = results.findIndex((r) => r.restarted);
      if (first < 0) return undefined;
      const restartedLog = (results[first] as CheckpointResult).log;
      return results.slice(first + 1).find((r) => r.log !== restartedLog);
    };
    // Wait (on the thread's reports) for three restarts and a checkpoint after the WAL started over;
    // without restarts the WAL would only grow, and the test fails after a thousand checkpoints.
    await new Promise<void>((resolve, reject) => {
      notify = () => {
        if (results.filter((r) => r.restarted).length >= 3 && afterRestart() !== undefined) resolve();
        else if (results.length >= 1000) reject(new Error(`no restart in ${results.length} checkpoints; the WAL grew to ${results.at(-1)?.log} frames`));
      };
    });
    Atomics.store(stop, 0, 1);
    await writerDone;
    // The WAL started over: the first checkpoint to see it changed finds it shorter than the one restarted.
    const restarted = results.find((r) => r.restarted) as CheckpointResult;
    expect(afterRestart()?.log).toBeLessThan(restarted.log);
    expect(results.every((r) => r.busy === 0 || !r.restarted)).toBe(true);
    const rows = db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number };
    expect(rows.n).toBeGreaterThan(50);
    db.close();
  });

  it('stops its thread: a later checkpoint is refused, and the owner closes its connection as usual', async () => {
    const { file, db, insert } = database();
    const checkpointer = started(file, { intervalMs: 3_600_000 });
    insert(10);
    await checkpointer.stop();
    await checkpointer.stop(); // idempotent
    await expect(checkpointer.checkpoint()).rejects.toThrow(/stopped/);
    db.close();
    // The last connection closed: SQLite checkpointed and removed the WAL.
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('keeps the process alive while a checkpoint or a stop is awaited, and not otherwise', () => {
    // From the build output (npm test builds first), in a process with nothing else to do: were the
    // thread not to hold the process while it is awaited, the process would end before the reply,
    // printing nothing, with exit code 0.
    const { file } = database();
    const sqlite = path.resolve(__dirname, '..', '..', 'dist', 'platform', 'sqlite.js');
    expect(fs.existsSync(sqlite)).toBe(true);
    const script = `
      const { SqliteCheckpointer } = require(${JSON.stringify(sqlite)});
      const checkpointer = SqliteCheckpointer.start(${JSON.stringify(file)}, { intervalMs: 3600000 });
      checkpointer.checkpoint().then(async (result) => {
        console.log('checkpointed', result.busy);
        await checkpointer.stop();
        console.log('stopped');
      });`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('checkpointed 0\nstopped\n');
    // Started and never awaited, it does not keep the process alive (it would hang here).
    const idle = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(sqlite)}).SqliteCheckpointer.start(${JSON.stringify(file)}); console.log('done');`], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
      timeout: 30_000,
    });
    expect(idle.stdout).toBe('done\n');
    expect(idle.status).toBe(0);
  });

  it('shares a file with another checkpointer (another process\'s): at once, one of them reports busy, neither fails', async () => {
    const { file, db, insert } = database();
    const mine = started(file, { intervalMs: 3_600_000 });
    const theirs = started(file, { intervalMs: 3_600_000 });
    for (let i = 0; i < 50; i++) {
      insert(20);
      // Neither rejects (Promise.all would), and one of each pair gets the WAL fully copied back.
      const results = await Promise.all([mine.checkpoint(), theirs.checkpoint()]);
      expect(results.some((r) => r.busy === 0 && r.checkpointed === r.log)).toBe(true);
    }
    db.close();
  });

  it('checkpoints a shared file from one thread on its timer: the others stand by, and one takes over when it stops', async () => {
    const { file, db, insert } = database();
    /** Events of a checkpointer's timed turns, awaited in order. */
    const turns = () => {
      const seen: ('checkpoint' | 'standby')[] = [];
      const waiters: { kind: 'checkpoint' | 'standby'; resolve: () => void }[] = [];
      const record = (kind: 'checkpoint' | 'standby') => {
        seen.push(kind);
        for (const waiter of waiters.splice(0)) {
          if (waiter.kind === kind) waiter.resolve();
          else waiters.push(waiter);
        }
      };
      return {
        seen,
        options: { intervalMs: 5, onCheckpoint: () => record('checkpoint'), onStandby: () => record('standby') },
        next: (kind: 'checkpoint' | 'standby') => new Promise<void>((resolve) => waiters.push({ kind, resolve })),
      };
    };
    const first = turns();
    const firstCheckpointed = first.next('checkpoint');
    const leader = started(file, first.options);
    await firstCheckpointed;
    const second = turns();
    const secondStoodBy = second.next('standby');
    const standby = started(file, second.options);
    insert(20);
    await secondStoodBy;
    // The leader went on checkpointing; the second one never did while it ran.
    const leaderAgain = first.next('checkpoint');
    await leaderAgain;
    expect(second.seen).not.toContain('checkpoint');
    expect(first.seen).not.toContain('standby');
    // Asked directly, one standing by still checkpoints (or finds the leader's checkpoint running).
    await expect(standby.checkpoint()).resolves.toEqual(expect.objectContaining({ log: expect.any(Number) }));
    const secondTookOver = second.next('checkpoint');
    await leader.stop();
    insert(20);
    await secondTookOver;
    expect(fs.existsSync(`${file}-checkpointer`)).toBe(true);
    db.close();
  });

  it("runs without the process's preloaded modules; if it fails anyway, the connection checkpoints on its own at SQLite's default length", () => {
    // A module preloaded with --require (an agent, a probe) that refuses to run in a worker thread:
    // inherited by the thread, it ended the checkpoints, and the connection's fallback checkpoints
    // (160 MiB each, inside a commit) stalled the event loop for about 200 ms every few seconds.
    const { file, db } = database();
    db.close();
    const dir = path.dirname(file);
    const preload = path.join(dir, 'refuses-threads.js');
    fs.writeFileSync(preload, `if (!require('node:worker_threads').isMainThread) throw new Error('not in a thread');\n`);
    const sqlite = path.resolve(__dirname, '..', '..', 'dist', 'platform', 'sqlite.js');
    const script = `
      const { checkpointOnOwn, openSqlite, SqliteCheckpointer } = require(${JSON.stringify(sqlite)});
      const db = openSqlite(${JSON.stringify(file)});
      const checkpointer = SqliteCheckpointer.start(${JSON.stringify(file)}, {
        intervalMs: 3600000,
        onFailure: (error) => {
          checkpointOnOwn(db);
          console.log('failed:', error.message, db.pragma('wal_autocheckpoint', { simple: true }));
          db.close();
        },
      });
      checkpointer.checkpoint().then(async (result) => {
        console.log('checkpointed', result.busy, db.pragma('wal_autocheckpoint', { simple: true }));
        await checkpointer.stop();
        db.close();
      }, () => undefined);`;
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'fatal' };
    delete env.NODE_OPTIONS;
    // Preloaded on the command line: the thread does not inherit it, and checkpoints.
    const cli = spawnSync(process.execPath, ['--require', preload, '-e', script], { encoding: 'utf8', env, timeout: 30_000 });
    expect(cli.stdout).toBe('checkpointed 0 40000\n');
    expect(cli.status).toBe(0);
    // Preloaded through NODE_OPTIONS, which every thread of the process runs: the thread fails, the
    // owner hears it once, and its connection checkpoints every 1,000 pages again.
    const nodeOptions = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...env, NODE_OPTIONS: `--require ${preload}` }, timeout: 30_000 });
    expect(nodeOptions.stdout).toBe(`failed: not in a thread ${OWN_AUTOCHECKPOINT_PAGES}\n`);
    expect(nodeOptions.status).toBe(0);
  });

  it('is not started for an in-memory database (it has no WAL)', () => {
    expect(SqliteCheckpointer.start(':memory:')).toBeNull();
  });
});
