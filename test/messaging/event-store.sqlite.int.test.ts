// The embedded SQLite EventStore against the shared contract on real files in a temp directory,
// including a restart (reopen the same file), plus what only a file-backed store promises.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../platform/clock';
import { createEventStore } from '../../messaging/store/create-event-store';
import { eventStoreFile, SqliteEventStore } from '../../messaging/store/sqlite-event-store';
import { eventStoreContract } from '../contracts/event-store.contract';

let dir: string;
let files = 0;
let lastFile = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-store-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SqliteEventStore on a file (contract)', () => {
  eventStoreContract({
    create: (clock) => {
      lastFile = eventStoreFile(path.join(dir, `data-${++files}`));
      return createEventStore({ kind: 'sqlite', file: lastFile }, clock);
    },
    reopen: (clock) => createEventStore({ kind: 'sqlite', file: lastFile }, clock),
  });
});

describe("SqliteEventStore on ':memory:' (contract)", () => {
  eventStoreContract({ create: (clock) => createEventStore({ kind: 'sqlite', file: ':memory:' }, clock) });
});

describe('SqliteEventStore', () => {
  const context = { correlationId: 'corr' };

  it('creates its data directory and one WAL-mode file in it', async () => {
    const file = eventStoreFile(path.join(dir, 'nested', 'data'));
    const store = new SqliteEventStore({ file, clock: new ManualClock() });
    await store.append('member-a', [{ type: 'membership.renewed', payload: { memberId: 'a', tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }], {
      expectedVersion: 0,
      context,
    });
    await store.close();
    expect(fs.existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT stream_id, stream_version, position, type FROM events').all()).toEqual([
        { stream_id: 'member-a', stream_version: 1, position: 1, type: 'membership.renewed' },
      ]);
    } finally {
      db.close();
    }
  });

  it('reads its own latest appends from memory, and what another connection appended from the file', async () => {
    const file = eventStoreFile(path.join(dir, 'tail'));
    const clock = new ManualClock();
    const one = new SqliteEventStore({ file, clock });
    const two = new SqliteEventStore({ file, clock });
    const renewed = (memberId: string) =>
      ({ type: 'membership.renewed', payload: { memberId, tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }) as const;
    const read = async (store: SqliteEventStore, options: Parameters<SqliteEventStore['readAll']>[0]) => {
      const events = [];
      for await (const batch of store.readAll(options)) events.push(...batch);
      return events;
    };
    try {
      await one.append('member-a', [renewed('a'), renewed('a')], { expectedVersion: 'any', context });
      await two.append('member-b', [renewed('b')], { expectedVersion: 'any', context });
      await one.append('member-a', [renewed('a')], { expectedVersion: 'any', context });
      await one.append('crm-a', [{ type: 'sync.completed', payload: { memberId: 'a', system: 'crm', sourceEventId: '00000000-0000-4000-8000-000000000001' } }], {
        expectedVersion: 'any',
        context,
      });
      // From memory: (3, 5] was appended by `one` alone; the same as the file holds.
      const tail = await read(one, { after: 3 });
      expect(tail.map((e) => e.position)).toEqual([4, 5]);
      expect(tail).toEqual(await read(two, { after: 3 }));
      expect(Object.isFrozen(tail[0])).toBe(true);
      // Position 3 is the other connection's: the read goes to the file and misses nothing.
      const everything = await read(one, { after: 0, batchSize: 2 });
      expect(everything.map((e) => `${e.position}:${e.streamId}`)).toEqual(['1:member-a', '2:member-a', '3:member-b', '4:member-a', '5:crm-a']);
      expect(everything).toEqual(await read(two, { after: 0 }));
      // Types and until, served from memory in batches.
      const typed = await read(one, { after: 3, until: 5, types: ['sync.completed'], batchSize: 1 });
      expect(typed.map((e) => e.position)).toEqual([5]);
      expect((await read(one, { after: 3, until: 4 })).map((e) => e.position)).toEqual([4]);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('shares one file between two open stores (two processes) without losing a concurrency check', async () => {
    const file = eventStoreFile(path.join(dir, 'shared'));
    const clock = new ManualClock();
    const one = new SqliteEventStore({ file, clock });
    const two = new SqliteEventStore({ file, clock });
    try {
      const created = { type: 'member.created', payload: { memberId: 'a', email: 'a@example.org', firstName: 'A', lastName: 'B', tier: 'basic' } } as const;
      await one.append('member-a', [created], { expectedVersion: 0, context });
      await expect(two.append('member-a', [created], { expectedVersion: 0, context })).rejects.toMatchObject({
        code: 'CONFLICT',
        details: { expectedVersion: 0, actualVersion: 1 },
      });
      await two.append('member-b', [{ ...created, payload: { ...created.payload, memberId: 'b' } }], { expectedVersion: 0, context });
      expect(await one.headPosition()).toBe(2);
      const positions: number[] = [];
      for await (const batch of one.readAll()) positions.push(...batch.map((e) => e.position));
      expect(positions).toEqual([1, 2]);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('bounds a read by the head it knows, and sees what another connection appended past it', async () => {
    const file = eventStoreFile(path.join(dir, `head-${++files}`));
    const clock = new ManualClock();
    const one = new SqliteEventStore({ file, clock });
    const two = new SqliteEventStore({ file, clock });
    const renewed = (memberId: string) =>
      ({ type: 'membership.renewed', payload: { memberId, tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }) as const;
    const positions = async (options: Parameters<SqliteEventStore['readAll']>[0]) => {
      const seen: number[] = [];
      for await (const batch of one.readAll(options)) seen.push(...batch.map((e) => e.position));
      return seen;
    };
    try {
      await one.append('member-a', [renewed('a'), renewed('a')], { expectedVersion: 'any', context });
      await two.append('member-b', [renewed('b')], { expectedVersion: 'any', context });
      // `one` knows of position 2 (its own); the head it takes now is 3 (the other connection's).
      const head = await one.headPosition();
      expect(head).toBe(3);
      await two.append('member-b', [renewed('b')], { expectedVersion: 'any', context });
      // A follower's read up to the head it took stops there, though 4 is committed ...
      expect(await positions({ after: 0, until: head })).toEqual([1, 2, 3]);
      // ... a read past what `one` knows looks at the file again (4), and never past what is there.
      expect(await positions({ after: 0, until: 9 })).toEqual([1, 2, 3, 4]);
      await two.append('member-b', [renewed('b')], { expectedVersion: 'any', context });
      expect(await positions({ after: 3 })).toEqual([4, 5]);
      expect(await one.headPosition()).toBe(5);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('group-commits the appends of one turn; nothing reads them before they are committed', async () => {
    const file = eventStoreFile(path.join(dir, `group-${++files}`));
    const store = new SqliteEventStore({ file, clock: new ManualClock() });
    const renewed = (memberId: string) => ({ type: 'membership.renewed' as const, payload: { memberId, tier: 'vip' as const, expiresAt: '2026-01-01T00:00:00.000Z' } });
    try {
      await store.append('member-a', [renewed('a')], { expectedVersion: 0, context });
      const appends = [
        store.append('member-b', [renewed('b')], { expectedVersion: 0, context }),
        store.append('member-a', [renewed('a')], { expectedVersion: 0, context }), // stale: a conflict
        store.append('member-c', [renewed('c'), renewed('c')], { expectedVersion: 0, context }),
      ];
      // Not committed yet: a follower must not see (nor skip past) them.
      expect(await store.headPosition()).toBe(1);
      const seen: number[] = [];
      for await (const batch of store.readAll()) seen.push(...batch.map((e) => e.position));
      expect(seen).toEqual([1]);
      const results = await Promise.allSettled(appends);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
      expect(await store.headPosition()).toBe(4);
      const other = new SqliteEventStore({ file, clock: new ManualClock() });
      const all: string[] = [];
      for await (const batch of other.readAll()) all.push(...batch.map((e) => `${e.position}:${e.streamId}`));
      await other.close();
      expect(all).toEqual(['1:member-a', '2:member-b', '3:member-c', '4:member-c']);
    } finally {
      await store.close();
    }
  });

  it('refuses a stored payload of a schema version it cannot upcast, with a clear error', async () => {
    const file = eventStoreFile(path.join(dir, 'old-version'));
    const store = new SqliteEventStore({ file, clock: new ManualClock() });
    await store.append('member-a', [{ type: 'membership.renewed', payload: { memberId: 'a', tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }], {
      expectedVersion: 0,
      context,
    });
    await store.close();
    const db = new Database(file);
    db.prepare('UPDATE events SET schema_version = 0').run();
    db.close();
    const reopened = new SqliteEventStore({ file, clock: new ManualClock() });
    try {
      await expect(reopened.readStream('member-a')).rejects.toMatchObject({ code: 'INVALID_EVENT', message: expect.stringContaining('no upcaster') });
    } finally {
      await reopened.close();
    }
  });
});
