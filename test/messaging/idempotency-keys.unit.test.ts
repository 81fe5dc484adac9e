// Idempotency keys: a repeat with the same key and input answers the first result, another input
// is CONFLICT, keys are per caller and operation, refusals release them, they expire after 24 hours,
// and twins racing with one key (even through two store handles on one file) create once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IdempotencyKeys, IDEMPOTENCY_KEY_TTL_MS, type Creation } from '../../messaging/state/idempotency-keys';
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import { SqliteDocumentStore } from '../../messaging/state/sqlite-document-store';
import { ManualClock } from '../../platform/clock';
import { ConcurrencyError, ValidationError } from '../../platform/errors';

const ada = { sub: 'ada', role: 'member' as const };
const bob = { sub: 'bob', role: 'member' as const };

/** Creations kept in a map, created at most once per id as an event stream would (expected version 0). */
function thingsCreator() {
  const created = new Map<string, { id: string; input: string }>();
  let ids = 0;
  let creates = 0;
  const creation = (input: string, refuse = false): Creation<{ id: string; input: string }> => ({
    newId: () => `thing-${++ids}`,
    find: async (id) => created.get(id) ?? null,
    create: async (id) => {
      creates++;
      await new Promise((resolve) => setImmediate(resolve)); // others run meanwhile
      if (refuse) throw new ValidationError('bad input', { field: 'x' });
      if (created.has(id)) throw new ConcurrencyError(`thing-${id}`, 0, 1);
      const thing = { id, input };
      created.set(id, thing);
      return thing;
    },
  });
  return { created, creation, creates: () => creates };
}

describe('idempotency keys', () => {
  let clock: ManualClock;
  let keys: IdempotencyKeys;
  beforeEach(() => {
    clock = new ManualClock('2025-03-01T10:00:00.000Z');
    keys = new IdempotencyKeys(new MemoryDocumentStore(), clock);
  });

  const request = (key: string | null, input: unknown, caller = ada, operation = 'createThing') => ({ operation, caller, key, input });

  it('answers a repeat with the same key and input with the first result, creating once', async () => {
    const things = thingsCreator();
    const first = await keys.run(request('k-1', { a: 1, b: [1, 2] }), things.creation('x'));
    // The same input, its fields in another order and with nulls spelled out, is the same request.
    const again = await keys.run(request('k-1', { b: [1, 2], a: 1, c: null }), things.creation('x'));
    expect(again).toEqual(first);
    expect(things.created.size).toBe(1);
  });

  it('answers CONFLICT when the key comes back with another input, creating nothing', async () => {
    const things = thingsCreator();
    await keys.run(request('k-1', { a: 1 }), things.creation('x'));
    await expect(keys.run(request('k-1', { a: 2 }), things.creation('y'))).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'idempotencyKey' } });
    expect(things.created.size).toBe(1);
  });

  it('scopes keys per caller and per operation', async () => {
    const things = thingsCreator();
    const mine = await keys.run(request('k-1', { a: 1 }), things.creation('x'));
    const bobs = await keys.run(request('k-1', { a: 1 }, bob), things.creation('x'));
    const other = await keys.run(request('k-1', { a: 1 }, ada, 'createOther'), things.creation('x'));
    expect(new Set([mine.id, bobs.id, other.id]).size).toBe(3);
  });

  it('creates twice without a key', async () => {
    const things = thingsCreator();
    await keys.run(request(null, { a: 1 }), things.creation('x'));
    await keys.run(request(null, { a: 1 }), things.creation('x'));
    expect(things.created.size).toBe(2);
  });

  it('releases the key when the request is refused, so the corrected request may use it', async () => {
    const things = thingsCreator();
    await expect(keys.run(request('k-1', { a: 'bad' }), things.creation('x', true))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const corrected = await keys.run(request('k-1', { a: 'good' }), things.creation('x'));
    expect(corrected.input).toBe('x');
  });

  it('remembers a key for 24 hours, then takes it as new', async () => {
    const things = thingsCreator();
    const first = await keys.run(request('k-1', { a: 1 }), things.creation('x'));
    clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1);
    expect((await keys.run(request('k-1', { a: 1 }), things.creation('x'))).id).toBe(first.id);
    expect(await keys.prune()).toBe(0);
    clock.advance(1);
    expect(await keys.prune()).toBe(1);
    expect((await keys.run(request('k-1', { a: 2 }), things.creation('y'))).id).not.toBe(first.id);
  });

  it.each(['', ' ', 'a b', 'x'.repeat(129), 'clé'])('refuses the key %j with BAD_USER_INPUT', async (key) => {
    await expect(keys.run(request(key, {}), thingsCreator().creation('x'))).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'idempotencyKey' } });
  });

  it('creates once when identical requests race, also from two handles on one SQLite file (two processes)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idem-'));
    const file = path.join(dir, 'state.db');
    const [one, two] = [new SqliteDocumentStore({ file }), new SqliteDocumentStore({ file })];
    try {
      const things = thingsCreator();
      const racers = [new IdempotencyKeys(one, clock), new IdempotencyKeys(two, clock)];
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => racers[i % 2]!.run(request('k-race', { a: 1 }), things.creation('x'))));
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(things.created.size).toBe(1);
      // A twin with another input loses with CONFLICT, whoever came first.
      await expect(racers[1]!.run(request('k-race', { a: 2 }), things.creation('y'))).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await one.close();
      await two.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
