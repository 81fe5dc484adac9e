// The DocumentStore contract: every adapter (memory, SQLite, MongoDB) must pass these, given a
// factory that returns a fresh, empty store and a way to dispose of it.
import fc from 'fast-check';
import { DomainError } from '../../platform/errors';
import { cursorOf, findEach, type Doc, type DocumentCollection, type DocumentStore, type FindQuery } from '../../messaging/state/document-store';

export interface DocumentStoreFixture {
  readonly store: DocumentStore;
  /** Close the store and delete whatever it wrote. */
  dispose(): Promise<void>;
}

interface Member extends Doc {
  readonly id: string;
  readonly email?: string | null;
  readonly name: string;
  readonly tier?: string | null;
  readonly score?: number | null;
  readonly active?: boolean | number;
  readonly tags?: readonly string[];
}

interface Counter extends Doc {
  readonly id: string;
  readonly n: number;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

/** Page through `query` `pageSize` documents at a time with keyset cursors. */
async function pageAll<T extends Doc>(
  collection: DocumentCollection<T>,
  query: FindQuery<T>,
  pageSize: number,
): Promise<T[]> {
  const all: T[] = [];
  const field = query.orderBy?.field ?? ('id' as keyof T & string);
  for (let after: FindQuery<T>['after'] | undefined = undefined, guard = 0; guard < 1000; guard++) {
    const page: T[] = await collection.find({ ...query, limit: pageSize, ...(after ? { after } : {}) });
    all.push(...page);
    const last = page[page.length - 1];
    if (page.length < pageSize || !last) return all;
    after = cursorOf(last, field);
  }
  throw new Error('paging did not end after 1000 pages: the cursor does not advance');
}

export function documentStoreContract(adapter: string, factory: () => Promise<DocumentStoreFixture>): void {
  describe(`DocumentStore contract: ${adapter}`, () => {
    let fixture: DocumentStoreFixture;
    let store: DocumentStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    const members = (indexed = true) =>
      store.collection<Member>('members', indexed ? { indexes: ['tier', 'score', 'name'], unique: ['email'] } : {});

    describe('keyed reads and writes', () => {
      it('returns what was put, and null for an unknown id', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org', tags: ['x', 'y'], score: 1.5 });
        expect(await c.get('m1')).toEqual({ id: 'm1', name: 'Ada', email: 'ada@example.org', tags: ['x', 'y'], score: 1.5 });
        expect(await c.get('nobody')).toBeNull();
      });

      it('replaces the whole document on a second put of the same id', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', tier: 'vip' });
        await c.put({ id: 'm1', name: 'Augusta' });
        expect(await c.get('m1')).toEqual({ id: 'm1', name: 'Augusta' });
        expect(await c.count()).toBe(1);
      });

      it('stores a copy: mutating a document after put or after get changes nothing stored', async () => {
        const c = members();
        const doc = { id: 'm1', name: 'Ada', tags: ['a'] };
        await c.put(doc);
        doc.tags.push('mutated');
        const read = (await c.get('m1')) as unknown as { tags: string[] };
        read.tags.push('also mutated');
        expect((await c.get('m1'))?.tags).toEqual(['a']);
      });

      it('drops undefined fields as JSON does', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', tier: undefined });
        expect(await c.get('m1')).not.toHaveProperty('tier');
      });

      it('returns getMany results in the order asked, skipping unknown ids and repeats', async () => {
        const c = members();
        await Promise.all(['a', 'b', 'c'].map((id) => c.put({ id, name: id.toUpperCase() })));
        const found = await c.getMany(['c', 'missing', 'a', 'c']);
        expect(found.map((d) => d.id)).toEqual(['c', 'a']);
        expect(await c.getMany([])).toEqual([]);
        // One id, alone or repeated, found or not.
        expect(await c.getMany(['b'])).toEqual([{ id: 'b', name: 'B' }]);
        expect(await c.getMany(['b', 'b'])).toEqual([{ id: 'b', name: 'B' }]);
        expect(await c.getMany(['missing'])).toEqual([]);
      });

      it('deletes by id and says whether anything was deleted', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada' });
        expect(await c.delete('m1')).toBe(true);
        expect(await c.delete('m1')).toBe(false);
        expect(await c.get('m1')).toBeNull();
      });

      it('keeps collections apart', async () => {
        await members().put({ id: 'same', name: 'member' });
        const other = store.collection<Member>('others');
        expect(await other.get('same')).toBeNull();
        expect(await other.count()).toBe(0);
      });

      it('clears a collection for a rebuild and keeps its unique constraint', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org' });
        await c.put({ id: 'm2', name: 'Bob' });
        await c.clear();
        expect(await c.count()).toBe(0);
        expect(await c.find()).toEqual([]);
        await c.put({ id: 'm3', name: 'Ada again', email: 'ada@example.org' });
        await expectCode(c.put({ id: 'm4', name: 'Clash', email: 'ada@example.org' }), 'CONFLICT');
      });
    });

    describe('insert-if-absent', () => {
      it('inserts a new id and refuses an existing one, leaving it untouched', async () => {
        const c = members();
        expect(await c.insert({ id: 'm1', name: 'first' })).toBe(true);
        expect(await c.insert({ id: 'm1', name: 'second' })).toBe(false);
        expect((await c.get('m1'))?.name).toBe('first');
      });

      it('lets exactly one of many concurrent inserts of one id win', async () => {
        const c = members();
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => c.insert({ id: 'race', name: `writer ${i}` })));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await c.get('race'))?.name).toBe(`writer ${winner}`);
      });

      it('reports an existing id as "already there" even when its unique field would also clash', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org' });
        await c.put({ id: 'm2', name: 'Bob', email: 'bob@example.org' });
        expect(await c.insert({ id: 'm2', name: 'Bob', email: 'ada@example.org' })).toBe(false);
      });
    });

    describe('unique fields', () => {
      it('refuses a second document with the same email, naming the field', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org' });
        const error = await expectCode(c.put({ id: 'm2', name: 'Impostor', email: 'ada@example.org' }), 'CONFLICT');
        expect(error.details).toMatchObject({ collection: 'members', field: 'email' });
        expect(error.message).toContain('email');
        expect(await c.get('m2')).toBeNull();
        await expectCode(c.insert({ id: 'm3', name: 'Impostor', email: 'ada@example.org' }), 'CONFLICT');
        expect(await c.count()).toBe(1);
      });

      it('lets exactly one of many concurrent writers of one unique value win; the others get CONFLICT naming the field', async () => {
        const c = members();
        const writes = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            i % 2 === 0 ? c.put({ id: `p${i}`, name: `writer ${i}`, email: 'taken@example.org' }) : c.insert({ id: `p${i}`, name: `writer ${i}`, email: 'taken@example.org' }),
          ),
        );
        const refused = writes.filter((w): w is PromiseRejectedResult => w.status === 'rejected');
        expect(refused).toHaveLength(11);
        for (const refusal of refused) {
          expect(refusal.reason).toBeInstanceOf(DomainError);
          expect(refusal.reason).toMatchObject({ code: 'CONFLICT', details: { collection: 'members', field: 'email' } });
        }
        expect(await c.count({ email: 'taken@example.org' })).toBe(1);
      });

      it('lets a document keep its own value and frees a value it gives up', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org' });
        await c.put({ id: 'm1', name: 'Ada L.', email: 'ada@example.org' });
        await c.put({ id: 'm1', name: 'Ada L.', email: 'augusta@example.org' });
        await c.put({ id: 'm2', name: 'New Ada', email: 'ada@example.org' });
        await c.delete('m2');
        await c.put({ id: 'm3', name: 'Newer Ada', email: 'ada@example.org' });
        expect((await c.find({ where: { email: 'ada@example.org' } })).map((d) => d.id)).toEqual(['m3']);
      });

      it('does not constrain documents without the field or with null', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'A' });
        await c.put({ id: 'm2', name: 'B' });
        await c.put({ id: 'm3', name: 'C', email: null });
        await c.put({ id: 'm4', name: 'D', email: null });
        expect(await c.count()).toBe(4);
      });

      it('compares unique values exactly (normalise case before writing)', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'A', email: 'ada@example.org' });
        await c.put({ id: 'm2', name: 'B', email: 'ADA@example.org' });
        expect(await c.count()).toBe(2);
      });

      it('refuses a non-string value in a unique field', async () => {
        const c = store.collection<Doc & { code: unknown }>('codes', { unique: ['code'] });
        await expectCode(c.put({ id: 'x', code: 42 }), 'BAD_USER_INPUT');
      });
    });

    describe('atomic update', () => {
      it('creates, changes, or leaves a document alone as the change function decides', async () => {
        const c = store.collection<Counter>('counters');
        expect(await c.update('k', (cur) => ({ id: 'k', n: (cur?.n ?? 0) + 1 }))).toEqual({ id: 'k', n: 1 });
        expect(await c.update('k', (cur) => ({ id: 'k', n: (cur?.n ?? 0) + 1 }))).toEqual({ id: 'k', n: 2 });
        expect(await c.update('k', () => null)).toEqual({ id: 'k', n: 2 });
        expect(await c.update('absent', () => null)).toBeNull();
        expect(await c.get('absent')).toBeNull();
        expect(await c.get('k')).toEqual({ id: 'k', n: 2 });
      });

      it('loses no increment when many updates of one document run at once', async () => {
        const c = store.collection<Counter>('counters');
        await Promise.all(Array.from({ length: 25 }, () => c.update('hot', (cur) => ({ id: 'hot', n: (cur?.n ?? 0) + 1 }))));
        expect(await c.get('hot')).toEqual({ id: 'hot', n: 25 });
      });

      it('stores one of many concurrent puts of one new id whole, none failing', async () => {
        const c = members();
        await Promise.all(Array.from({ length: 12 }, (_, i) => c.put({ id: 'fresh', name: `writer ${i}`, score: i })));
        const stored = await c.get('fresh');
        expect(stored?.name).toBe(`writer ${stored?.score}`);
        expect(await c.count()).toBe(1);
      });

      it('refuses an update that breaks a unique field and keeps the old document', async () => {
        const c = members();
        await c.put({ id: 'm1', name: 'Ada', email: 'ada@example.org' });
        await c.put({ id: 'm2', name: 'Bob', email: 'bob@example.org' });
        await expectCode(c.update('m2', (cur) => (cur ? { ...cur, email: 'ada@example.org' } : null)), 'CONFLICT');
        expect((await c.get('m2'))?.email).toBe('bob@example.org');
      });
    });

    describe('find and count', () => {
      const seed = async () => {
        const c = members();
        const docs: Member[] = [
          { id: 'a1', name: 'Émile Zola', tier: 'vip', score: 10, active: true },
          { id: 'a2', name: 'emma watson', tier: 'basic', score: 2, active: false },
          { id: 'a3', name: 'Ada (Countess)', tier: 'vip', score: 2, active: 1 },
          { id: 'a4', name: 'a.c. slater', tier: 'basic', score: null },
          { id: 'a5', name: 'abc', tier: null },
          { id: 'a6', name: 'Zed', tier: 'premium', score: 7, active: true },
        ];
        for (const d of docs) await c.put(d);
        return c;
      };
      const ids = (docs: readonly Doc[]) => docs.map((d) => d.id);

      it('returns everything ordered by id when asked nothing', async () => {
        const c = await seed();
        expect(ids(await c.find())).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
      });

      it('matches equality on several fields together', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { tier: 'vip' } }))).toEqual(['a1', 'a3']);
        expect(ids(await c.find({ where: { tier: 'vip', score: 2 } }))).toEqual(['a3']);
        expect(ids(await c.find({ where: { id: 'a2' } }))).toEqual(['a2']);
        expect(await c.count({ tier: 'basic' })).toBe(2);
        expect(await c.count()).toBe(6);
        expect(await c.count({ tier: 'nope' })).toBe(0);
      });

      it('answers several finds read together (findMany where the adapter has it) as each find alone, in the order asked', async () => {
        const c = await seed();
        const queries: FindQuery<Member>[] = [
          { where: { tier: 'vip' }, orderBy: { field: 'score', direction: 'desc' }, limit: 1 },
          { where: { tier: 'basic' } },
          { where: { tier: 'nope' } },
          { orderBy: { field: 'name', direction: 'asc' }, after: { value: 'Zed', id: 'a6' }, limit: 2 },
          { where: { tier: 'vip' }, limit: 0 },
          { where: { tier: 'vip' }, orderBy: { field: 'score', direction: 'desc' }, limit: 1 },
          { prefix: { field: 'name', value: 'EM' }, orderBy: { field: 'id', direction: 'desc' } },
        ];
        const alone = await Promise.all(queries.map((q) => c.find(q)));
        expect(alone.map(ids)).toEqual([['a1'], ['a2', 'a4'], [], ['a4', 'a5'], [], ['a1'], ['a2']]);
        expect(await findEach(c, queries)).toEqual(alone);
        expect(await findEach(c, [])).toEqual([]);
        // One list per row: the same page over several values of one field (a value asked twice, one with nothing).
        const perRow: FindQuery<Member>[] = ['vip', 'basic', 'nope', 'vip', 'premium'].map((tier) => ({
          where: { tier },
          orderBy: { field: 'score', direction: 'desc' },
          limit: 2,
        }));
        const perRowAlone = await Promise.all(perRow.map((q) => c.find(q)));
        expect(perRowAlone.map(ids)).toEqual([['a1', 'a3'], ['a2', 'a4'], [], ['a1', 'a3'], ['a6']]);
        expect(await findEach(c, perRow)).toEqual(perRowAlone);
        const withOther: FindQuery<Member>[] = ['vip', 'basic', 'premium'].map((tier) => ({ where: { active: true, tier }, orderBy: { field: 'id', direction: 'asc' }, limit: 5 }));
        const withOtherAlone = await Promise.all(withOther.map((q) => c.find(q)));
        expect(withOtherAlone.map(ids)).toEqual([['a1'], [], ['a6']]);
        expect(await findEach(c, withOther)).toEqual(withOtherAlone);
      });

      it('matches null against null and missing fields', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { score: null } }))).toEqual(['a4', 'a5']);
        expect(await c.count({ tier: null })).toBe(1);
      });

      it('answers the same on a sparsely indexed field: values, null and missing, ranges and order', async () => {
        const c = store.collection<Doc & { run?: string | null; n: number }>('sparse', { indexes: ['n'], sparseIndexes: ['run'] });
        await c.put({ id: 'm1', run: null, n: 1 });
        await c.put({ id: 'm2', run: 'r1', n: 2 });
        await c.put({ id: 'm3', n: 3 });
        await c.put({ id: 'm4', run: 'r2', n: 4 });
        await c.put({ id: 'm5', run: 'r1', n: 5 });
        expect(ids(await c.find({ where: { run: 'r1' } }))).toEqual(['m2', 'm5']);
        expect(ids(await c.find({ where: { run: 'r1', n: 5 } }))).toEqual(['m5']);
        expect(ids(await c.find({ where: { run: null } }))).toEqual(['m1', 'm3']);
        expect(await c.count({ run: null })).toBe(2);
        expect(await c.count({ run: 'r2' })).toBe(1);
        expect(ids(await c.find({ where: { run: { gte: 'r2' } } }))).toEqual(['m4']);
        expect(ids(await c.find({ orderBy: { field: 'run', direction: 'desc' } }))).toEqual(['m4', 'm5', 'm2', 'm3', 'm1']);
        // A value given up leaves the index: the document is found by null again.
        await c.update('m2', (cur) => (cur ? { ...cur, run: null } : null));
        expect(ids(await c.find({ where: { run: 'r1' } }))).toEqual(['m5']);
        expect(ids(await c.find({ where: { run: null } }))).toEqual(['m1', 'm2', 'm3']);
        // Declaring it fully as well (another user of the collection) changes no answer.
        const full = store.collection<Doc & { run?: string | null; n: number }>('sparse', { indexes: ['run'] });
        expect(ids(await full.find({ where: { run: 'r1' } }))).toEqual(['m5']);
      });

      it('drops a retired index and still answers on its field; a retired index never made is no error', async () => {
        type Marker = Doc & { consumer: string; at: number };
        // A collection that does not exist yet, and whose retired index was never made.
        const fresh = store.collection<Marker>('retired-fresh', { indexes: ['at'], retiredIndexes: ['consumer'] });
        await fresh.put({ id: 'f1', consumer: 'crm', at: 1 });
        expect(ids(await fresh.find({ where: { consumer: 'crm' } }))).toEqual(['f1']);
        // An earlier version indexed `consumer`; this one retires it.
        const before = store.collection<Marker>('retired', { indexes: ['consumer', 'at'] });
        await before.put({ id: 'r1', consumer: 'crm', at: 1 });
        await before.put({ id: 'r2', consumer: 'email', at: 2 });
        await before.put({ id: 'r3', consumer: 'crm', at: 3 });
        const after = store.collection<Marker>('retired', { indexes: ['at'], retiredIndexes: ['consumer'] });
        await after.put({ id: 'r4', consumer: 'crm', at: 4 });
        expect(ids(await after.find({ where: { consumer: 'crm' } }))).toEqual(['r1', 'r3', 'r4']);
        expect(ids(await after.find({ where: { consumer: 'crm' }, orderBy: { field: 'at', direction: 'desc' } }))).toEqual(['r4', 'r3', 'r1']);
        expect(await after.count({ consumer: 'email' })).toBe(1);
      });

      it('keeps booleans apart from numbers', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { active: true } }))).toEqual(['a1', 'a6']);
        expect(ids(await c.find({ where: { active: false } }))).toEqual(['a2']);
        expect(ids(await c.find({ where: { active: 1 } }))).toEqual(['a3']);
      });

      it('finds by case-insensitive prefix, taking the input literally', async () => {
        const c = await seed();
        expect(ids(await c.find({ prefix: { field: 'name', value: 'EM' } }))).toEqual(['a2']);
        expect(ids(await c.find({ prefix: { field: 'name', value: 'émile' } }))).toEqual(['a1']);
        expect(ids(await c.find({ prefix: { field: 'name', value: 'a.c' } }))).toEqual(['a4']);
        expect(ids(await c.find({ prefix: { field: 'name', value: 'ada (' } }))).toEqual(['a3']);
        expect(ids(await c.find({ prefix: { field: 'name', value: '.*' } }))).toEqual([]);
        expect(ids(await c.find({ prefix: { field: 'name', value: 'a' }, where: { tier: 'basic' } }))).toEqual(['a4']);
        expect(ids(await c.find({ prefix: { field: 'name', value: '' } }))).toHaveLength(6);
      });

      it('orders by a numeric field with id breaking ties, nulls first ascending and last descending', async () => {
        const c = await seed();
        expect(ids(await c.find({ orderBy: { field: 'score' } }))).toEqual(['a4', 'a5', 'a2', 'a3', 'a6', 'a1']);
        expect(ids(await c.find({ orderBy: { field: 'score', direction: 'desc' } }))).toEqual(['a1', 'a6', 'a3', 'a2', 'a5', 'a4']);
      });

      it('orders strings by code point and numbers numerically', async () => {
        const c = store.collection<Doc & { s: string; n: number }>('ordering', { indexes: ['s', 'n'] });
        const values = [
          { id: '1', s: 'b', n: 10 },
          { id: '2', s: 'B', n: 9 },
          { id: '3', s: 'é', n: -1 },
          { id: '4', s: 'a', n: 2.5 },
          { id: '5', s: '\u{1F600}', n: 100 },
          { id: '6', s: '\uFF21', n: 0 },
        ];
        for (const v of values) await c.put(v);
        expect((await c.find({ orderBy: { field: 's' } })).map((d) => d.s)).toEqual(['B', 'a', 'b', 'é', '\uFF21', '\u{1F600}']);
        expect((await c.find({ orderBy: { field: 'n' } })).map((d) => d.n)).toEqual([-1, 0, 2.5, 9, 10, 100]);
      });

      it('limits results, and a limit of 0 returns none', async () => {
        const c = await seed();
        expect(ids(await c.find({ orderBy: { field: 'name' }, limit: 2 }))).toEqual(['a3', 'a6']);
        expect(await c.find({ limit: 0 })).toEqual([]);
      });

      it('pages with a keyset cursor in both directions without gaps or repeats', async () => {
        const c = await seed();
        for (const direction of ['asc', 'desc'] as const) {
          for (const field of ['score', 'tier', 'id'] as const) {
            const full = await c.find({ orderBy: { field, direction } });
            for (const size of [1, 2, 4]) {
              expect(ids(await pageAll(c, { orderBy: { field, direction } }, size))).toEqual(ids(full));
            }
          }
        }
        const vipPages = await pageAll(c, { where: { tier: 'vip' }, orderBy: { field: 'score', direction: 'desc' } }, 1);
        expect(ids(vipPages)).toEqual(['a1', 'a3']);
      });

      it('pages any data set the same as one unpaged query (property)', async () => {
        const c = store.collection<Doc & { k?: number | null; g: string }>('paged', { indexes: ['k'] });
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(
              fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), k: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }), g: fc.constantFrom('x', 'y') }),
              { selector: (d) => d.id, maxLength: 14 },
            ),
            fc.integer({ min: 1, max: 5 }),
            fc.constantFrom('asc' as const, 'desc' as const),
            async (docs, size, direction) => {
              await c.clear();
              for (const d of docs) await c.put(d);
              const query = { where: { g: 'x' }, orderBy: { field: 'k' as const, direction } };
              const full = await c.find(query);
              expect(full).toHaveLength(docs.filter((d) => d.g === 'x').length);
              expect((await pageAll(c, query, size)).map((d) => d.id)).toEqual(full.map((d) => d.id));
            },
          ),
          { numRuns: 30 },
        );
      });
    });

    describe('ranges and paging in both directions', () => {
      interface Timed extends Doc {
        readonly id: string;
        readonly at?: string | number | null;
        readonly n?: number | string | null;
        readonly g?: string;
      }
      const timed = () => store.collection<Timed>('timed', { indexes: ['at', 'n', 'g'] });
      const ids = (docs: readonly Doc[]) => docs.map((d) => d.id);
      const seed = async () => {
        const c = timed();
        const docs: Timed[] = [
          { id: 'e1', at: '2025-01-01T00:00:00.000Z', n: 1, g: 'x' },
          { id: 'e2', at: '2025-01-02T00:00:00.000Z', n: 2, g: 'x' },
          { id: 'e3', at: '2025-01-02T00:00:00.000Z', n: 2.5, g: 'y' },
          { id: 'e4', at: '2025-01-03T00:00:00.000Z', n: 10, g: 'x' },
          { id: 'e5', at: null, n: null, g: 'x' },
          { id: 'e6', g: 'x' },
          { id: 'e7', at: '2025-01-04T00:00:00.000Z', n: '3', g: 'x' },
        ];
        for (const d of docs) await c.put(d);
        return c;
      };

      it('matches string ranges by code point, and never null, missing or numbers', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { at: { lt: '2025-01-03' } } }))).toEqual(['e1', 'e2', 'e3']);
        expect(ids(await c.find({ where: { n: { lt: '4' } } }))).toEqual(['e7']);
        expect(ids(await c.find({ where: { at: { gte: '2025-01-02T00:00:00.000Z', lte: '2025-01-03T00:00:00.000Z' } } }))).toEqual(['e2', 'e3', 'e4']);
        expect(ids(await c.find({ where: { at: { gt: '2025-01-02T00:00:00.000Z' } } }))).toEqual(['e4', 'e7']);
        expect(ids(await c.find({ where: { at: { gt: '' } } }))).toEqual(['e1', 'e2', 'e3', 'e4', 'e7']);
        expect(ids(await c.find({ where: { n: { gt: '' } } }))).toEqual(['e7']);
      });

      it('matches number ranges numerically, and never null, missing or strings', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { n: { gt: 1, lt: 10 } } }))).toEqual(['e2', 'e3']);
        expect(ids(await c.find({ where: { n: { gte: 2.5 } } }))).toEqual(['e3', 'e4']);
        expect(ids(await c.find({ where: { n: { lte: 1e9 } } }))).toEqual(['e1', 'e2', 'e3', 'e4']);
        expect(ids(await c.find({ where: { id: { gt: 1 } } }))).toEqual([]);
      });

      it('combines a range with equality, on the id too, and counts with it', async () => {
        const c = await seed();
        expect(ids(await c.find({ where: { g: 'x', at: { lt: '2025-01-03' } } }))).toEqual(['e1', 'e2']);
        expect(ids(await c.find({ where: { id: { gte: 'e3', lt: 'e5' } } }))).toEqual(['e3', 'e4']);
        expect(await c.count({ g: 'x', at: { lt: '2025-01-03' } })).toBe(2);
        expect(await c.count({ n: { gte: 0 } })).toBe(4);
      });

      it('orders and pages a range on its own sort key', async () => {
        const c = await seed();
        const query = { where: { at: { lt: '2025-01-03' } }, orderBy: { field: 'at' as const, direction: 'desc' as const } };
        expect(ids(await c.find(query))).toEqual(['e3', 'e2', 'e1']);
        expect(ids(await pageAll(c, query, 1))).toEqual(['e3', 'e2', 'e1']);
      });

      it('returns only documents before a `before` cursor, and between `after` and `before`', async () => {
        const c = await seed();
        const all = await c.find({ orderBy: { field: 'at' } });
        expect(ids(all)).toEqual(['e5', 'e6', 'e1', 'e2', 'e3', 'e4', 'e7']);
        const at = (id: string) => cursorOf(all.find((d) => d.id === id) as Timed, 'at');
        expect(ids(await c.find({ orderBy: { field: 'at' }, before: at('e3') }))).toEqual(['e5', 'e6', 'e1', 'e2']);
        expect(ids(await c.find({ orderBy: { field: 'at' }, after: at('e5'), before: at('e3') }))).toEqual(['e6', 'e1', 'e2']);
        expect(ids(await c.find({ orderBy: { field: 'at' }, after: at('e3') }))).toEqual(['e4', 'e7']);
        expect(ids(await c.find({ orderBy: { field: 'at', direction: 'desc' }, before: at('e2') }))).toEqual(['e7', 'e4', 'e3']);
        expect(ids(await c.find({ orderBy: { field: 'at', direction: 'desc' }, after: at('e1'), before: at('e6') }))).toEqual([]);
        expect(ids(await c.find({ orderBy: { field: 'at', direction: 'desc' }, after: at('e1') }))).toEqual(['e6', 'e5']);
        expect(ids(await c.find({ orderBy: { field: 'at', direction: 'desc' }, before: at('e6'), limit: 1 }))).toEqual(['e7']);
        expect(await c.find({ orderBy: { field: 'at' }, after: at('e3'), before: at('e2') })).toEqual([]);
      });

      it('pages backwards (last n before a cursor) to the same list as forwards (property)', async () => {
        const c = store.collection<Doc & { k?: number | null; g: string }>('paged_back', { indexes: ['k'] });
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(
              fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), k: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }), g: fc.constantFrom('x', 'y') }),
              { selector: (d) => d.id, maxLength: 14 },
            ),
            fc.integer({ min: 1, max: 5 }),
            fc.constantFrom('asc' as const, 'desc' as const),
            async (docs, size, direction) => {
              await c.clear();
              for (const d of docs) await c.put(d);
              const where = { g: 'x' };
              const forward = await c.find({ where, orderBy: { field: 'k', direction } });
              // Backwards: each page is the `size` documents before the previous page's first one.
              const reverse = direction === 'asc' ? 'desc' : 'asc';
              const collected: Doc[] = [];
              let before: ReturnType<typeof cursorOf> | undefined;
              for (let guard = 0; guard < 100; guard++) {
                const page = (await c.find({ where, orderBy: { field: 'k', direction: reverse }, limit: size, ...(before ? { after: before } : {}) })).reverse();
                collected.unshift(...page);
                const first = page[0];
                if (page.length < size || !first) break;
                before = cursorOf(first, 'k');
                // The same window through `before` in the forward order.
                const tail = forward.slice(0, forward.findIndex((d) => d.id === first.id));
                expect(ids(await c.find({ where, orderBy: { field: 'k', direction }, before }))).toEqual(ids(tail));
              }
              expect(ids(collected)).toEqual(ids(forward));
            },
          ),
          { numRuns: 25 },
        );
      });

      it('refuses malformed ranges', async () => {
        const c = timed();
        await expectCode(c.find({ where: { n: {} } }), 'BAD_USER_INPUT');
        await expectCode(c.find({ where: { n: { gt: 1, lt: 'z' } } }), 'BAD_USER_INPUT');
        await expectCode(c.find({ where: { n: { ne: 1 } as never } }), 'BAD_USER_INPUT');
        await expectCode(c.find({ where: { n: { gt: Number.NaN } } }), 'BAD_USER_INPUT');
        await expectCode(c.find({ where: { n: { gt: [1] } as never } }), 'BAD_USER_INPUT');
        await expectCode(c.count({ n: { lt: { $gt: 1 } } as never }), 'BAD_USER_INPUT');
        await expectCode(c.find({ before: { value: {} as never, id: 'x' } }), 'BAD_USER_INPUT');
      });
    });

    describe('refusals', () => {
      it('refuses bad collection names, reserved fields, and unsafe query fields', async () => {
        expect(() => store.collection('bad name')).toThrow(DomainError);
        expect(() => store.collection('events')).toThrow(/events/);
        const c = members(false);
        await expectCode(c.put({ id: '', name: 'no id' }), 'BAD_USER_INPUT');
        await expectCode(c.put({ id: 'x', name: 'x', _id: 'y' } as Member), 'BAD_USER_INPUT');
        await expectCode(c.find({ where: { $where: 'sleep(1)' } as never }), 'BAD_USER_INPUT');
        await expectCode(c.find({ orderBy: { field: "name') --" as never } }), 'BAD_USER_INPUT');
        await expectCode(c.find({ limit: -1 }), 'BAD_USER_INPUT');
      });
    });
  });
}
