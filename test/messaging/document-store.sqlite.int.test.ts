// The DocumentStore contract against the SQLite adapter on a real file, plus what only a file
// can show: data and indexes survive closing and reopening.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { SqliteDocumentStore } from '../../messaging/state/sqlite-document-store';
import type { Doc } from '../../messaging/state/document-store';
import { DomainError } from '../../platform/errors';
import { documentStoreContract } from '../contracts/document-store.contract';

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'docstore-'));
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let fileCounter = 0;
const nextFile = () => path.join(dataDir, `nested-${++fileCounter}`, 'state.sqlite');

documentStoreContract('sqlite file', async () => {
  const store = createDocumentStore({ kind: 'sqlite', file: nextFile() });
  return { store, dispose: () => store.close() };
});

documentStoreContract('sqlite :memory:', async () => {
  const store = new SqliteDocumentStore({ file: ':memory:' });
  return { store, dispose: () => store.close() };
});

interface Member extends Doc {
  readonly id: string;
  readonly email: string;
  readonly tier: string;
}

describe('SQLite DocumentStore on disk', () => {
  it('keeps documents and the unique constraint across a close and reopen', async () => {
    const file = nextFile();
    const first = new SqliteDocumentStore({ file });
    const members = first.collection<Member>('members', { indexes: ['tier'], unique: ['email'] });
    await members.put({ id: 'm1', email: 'ada@example.org', tier: 'vip' });
    await members.put({ id: 'm2', email: 'bob@example.org', tier: 'basic' });
    await first.close();
    expect(fs.existsSync(file)).toBe(true);

    const second = new SqliteDocumentStore({ file });
    try {
      // Reopened without options: the indexes are in the file already.
      const reopened = second.collection<Member>('members');
      expect(await reopened.get('m1')).toEqual({ id: 'm1', email: 'ada@example.org', tier: 'vip' });
      expect((await reopened.find({ where: { tier: 'basic' } })).map((m) => m.id)).toEqual(['m2']);
      const clash = await reopened.put({ id: 'm3', email: 'ada@example.org', tier: 'basic' }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(DomainError);
      expect((clash as DomainError).code).toBe('CONFLICT');
    } finally {
      await second.close();
    }
  });

  it('sees writes of another connection to the same file (two processes sharing the data directory)', async () => {
    const file = nextFile();
    const a = new SqliteDocumentStore({ file });
    const b = new SqliteDocumentStore({ file });
    try {
      const counterA = a.collection<Doc & { n: number }>('counters');
      const counterB = b.collection<Doc & { n: number }>('counters');
      for (let i = 0; i < 10; i++) {
        await counterA.update('shared', (cur) => ({ id: 'shared', n: (cur?.n ?? 0) + 1 }));
        await counterB.update('shared', (cur) => ({ id: 'shared', n: (cur?.n ?? 0) + 1 }));
      }
      expect(await counterA.get('shared')).toEqual({ id: 'shared', n: 20 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('commits the writes of one event-loop turn together: they are read once they resolve, never before', async () => {
    const file = nextFile();
    const writer = new SqliteDocumentStore({ file });
    const reader = new SqliteDocumentStore({ file });
    try {
      const mine = writer.collection<Member>('members');
      const theirs = reader.collection<Member>('members');
      const writes = [
        mine.insert({ id: 'a', email: 'a@x.org', tier: 'basic' }),
        mine.put({ id: 'b', email: 'b@x.org', tier: 'basic' }),
        mine.update('a', (cur) => (cur ? { ...cur, tier: 'vip' } : null)),
      ];
      // Queued for this turn's group, not yet committed: nobody reads them yet.
      expect(await mine.count()).toBe(0);
      expect(await theirs.count()).toBe(0);
      await Promise.all(writes);
      expect(await theirs.find({ orderBy: { field: 'id' } })).toEqual([
        { id: 'a', email: 'a@x.org', tier: 'vip' },
        { id: 'b', email: 'b@x.org', tier: 'basic' },
      ]);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('a failing write of a group rejects alone; the others of its turn are committed', async () => {
    const file = nextFile();
    const store = new SqliteDocumentStore({ file });
    try {
      const members = store.collection<Member>('members', { unique: ['email'] });
      await members.insert({ id: 'a', email: 'a@x.org', tier: 'basic' });
      const results = await Promise.allSettled([
        members.insert({ id: 'b', email: 'b@x.org', tier: 'basic' }),
        members.put({ id: 'c', email: 'a@x.org', tier: 'basic' }),
        members.update('a', () => {
          throw new Error('changed my mind');
        }),
        members.update('b', (cur) => (cur ? { ...cur, tier: 'vip' } : null)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
      await store.close();
      const reopened = new SqliteDocumentStore({ file });
      const again = reopened.collection<Member>('members');
      expect(await again.find({ orderBy: { field: 'id' } })).toEqual([
        { id: 'a', email: 'a@x.org', tier: 'basic' },
        { id: 'b', email: 'b@x.org', tier: 'vip' },
      ]);
      await reopened.close();
    } finally {
      await store.close();
    }
  });

  it('indexes a sparse field only where it holds a value, and drops the full index an earlier version made', async () => {
    const file = nextFile();
    const before = new SqliteDocumentStore({ file });
    const old = before.collection<Doc & { run: string | null }>('markers', { indexes: ['run'] });
    await old.put({ id: 'live-1', run: null });
    await old.put({ id: 'replay-1', run: 'r1' });
    await before.close();
    const store = new SqliteDocumentStore({ file });
    try {
      const markers = store.collection<Doc & { run: string | null }>('markers', { sparseIndexes: ['run'] });
      const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
      const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'doc_markers'`).all() as { name: string; sql: string | null }[];
      expect(indexes.map((i) => i.name)).toEqual(['doc_markers__sx__run']);
      expect(indexes[0]?.sql).toContain(`WHERE json_extract(doc, '$.run') IS NOT NULL`);
      // Only the replay's marker is in it.
      expect(db.prepare(`SELECT count(*) AS n FROM "doc_markers" INDEXED BY "doc_markers__sx__run" WHERE json_extract(doc, '$.run') IS NOT NULL`).get()).toEqual({ n: 1 });
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('r1') as { detail: string }[]).map((p) => p.detail).join('\n');
      // A lookup by value uses it; a lookup of null cannot (its rows are not in it).
      expect(plan(`SELECT doc FROM "doc_markers" WHERE json_extract(doc, '$.run') = ? ORDER BY id`)).toContain('doc_markers__sx__run');
      expect(plan(`SELECT doc FROM "doc_markers" WHERE json_extract(doc, '$.run') IS NULL AND ? IS NOT NULL`)).not.toContain('doc_markers__sx__run');
      expect((await markers.find({ where: { run: 'r1' } })).map((d) => d.id)).toEqual(['replay-1']);
      expect((await markers.find({ where: { run: null } })).map((d) => d.id)).toEqual(['live-1']);
    } finally {
      await store.close();
    }
  });

  it('drops the index of a retired field that an earlier version made, once the store is reopened', async () => {
    const file = nextFile();
    const before = new SqliteDocumentStore({ file });
    const old = before.collection<Doc & { consumer: string; at: string }>('processed', { indexes: ['consumer', 'at'] });
    await old.put({ id: 'crm:e1', consumer: 'crm', at: '2026-12-06T00:00:00.000Z' });
    await before.close();
    const store = new SqliteDocumentStore({ file });
    try {
      const markers = store.collection<Doc & { consumer: string; at: string }>('processed', { indexes: ['at'], retiredIndexes: ['consumer'] });
      const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
      const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'doc_processed' ORDER BY name`).all() as { name: string }[];
      expect(indexes.map((i) => i.name)).toEqual(['doc_processed__ix__at']);
      expect((await markers.find({ where: { consumer: 'crm' } })).map((d) => d.id)).toEqual(['crm:e1']);
      // Declared again (collection() is called per use): nothing more to drop, no error.
      store.collection<Doc & { consumer: string; at: string }>('processed', { indexes: ['at'], retiredIndexes: ['consumer'] });
    } finally {
      await store.close();
    }
  });

  it('uses the expression index for an indexed equality query', async () => {
    const store = new SqliteDocumentStore({ file: ':memory:' });
    try {
      store.collection<Member>('members', { indexes: ['tier'] });
      // Reach the connection only to ask SQLite for its plan: the index must match the query text.
      const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN SELECT doc FROM "doc_members" WHERE json_extract(doc, '$.tier') = ? ORDER BY json_extract(doc, '$.tier'), id`)
        .all('vip') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('doc_members__ix__tier');
    } finally {
      await store.close();
    }
  });
});
