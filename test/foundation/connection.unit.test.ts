// The shared connection helper: page arguments and their bounds, opaque cursors tied to their list,
// keyset pages of a collection in both directions, and pages of an in-memory list.
import 'reflect-metadata';
import fc from 'fast-check';
import { Field, ID, ObjectType } from 'type-graphql';
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import type { Doc } from '../../messaging/state/document-store';
import { DomainError } from '../../platform/errors';
import {
  ConnectionOf,
  decodeCursor,
  encodeCursor,
  MAX_PAGE_SIZE,
  pageArray,
  pageDocuments,
  type ConnectionArgs,
} from '../../subgraphs/common/connection';

@ObjectType()
class Thing {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
class ThingConnection extends ConnectionOf(Thing, 'Thing', 'thing') {}

interface ThingDoc extends Doc {
  readonly id: string;
  readonly at: string | null;
  readonly owner: string;
}

interface Resolved {
  edges: { cursor: string; node: Thing }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/** Read a connection as GraphQL would: every field, awaiting the lazily computed ones. */
async function read(connection: Promise<ThingConnection> | ThingConnection): Promise<Resolved> {
  const c = (await connection) as unknown as Resolved;
  return {
    edges: c.edges,
    pageInfo: {
      hasNextPage: await c.pageInfo.hasNextPage,
      hasPreviousPage: await c.pageInfo.hasPreviousPage,
      startCursor: c.pageInfo.startCursor,
      endCursor: c.pageInfo.endCursor,
    },
    totalCount: await c.totalCount,
  };
}

async function expectCode(run: () => Promise<unknown> | unknown, code: string, field?: string): Promise<DomainError> {
  let caught: unknown = null;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DomainError);
  expect((caught as DomainError).code).toBe(code);
  if (field) expect((caught as DomainError).details.field).toBe(field);
  return caught as DomainError;
}

type Versioned = Omit<Resolved, 'edges'> & { edges: { cursor: string; node: { version: number } }[] };

describe('connection helper', () => {
  const setup = async (docs: readonly ThingDoc[]) => {
    const store = new MemoryDocumentStore();
    const things = store.collection<ThingDoc>('things', { indexes: ['at', 'owner'] });
    for (const d of docs) await things.put(d);
    const query = { list: 'things', where: { owner: 'o1' }, orderBy: { field: 'at' as const, direction: 'desc' as const } };
    const pageOf = (args: ConnectionArgs) => read(pageDocuments(ThingConnection, things, query, args, (d) => Object.assign(new Thing(), { id: d.id })));
    return { things, pageOf };
  };
  const docs: ThingDoc[] = Array.from({ length: 7 }, (_, i) => ({ id: `t${i}`, at: `2025-01-0${(i % 5) + 1}`, owner: 'o1' }));
  const ids = (page: Resolved) => page.edges.map((e) => e.node.id);

  it('pages forwards with first/after to the end, then backwards with last/before to the start', async () => {
    const { things, pageOf } = await setup([...docs, { id: 'other', at: '2025-01-09', owner: 'o2' }]);
    const all = (await things.find({ where: { owner: 'o1' }, orderBy: { field: 'at', direction: 'desc' } })).map((d) => d.id);
    const forward: string[] = [];
    let page = await pageOf({ first: 3 });
    expect(page.pageInfo.hasPreviousPage).toBe(false);
    forward.push(...ids(page));
    while (page.pageInfo.hasNextPage) {
      page = await pageOf({ first: 3, after: page.pageInfo.endCursor });
      expect(page.pageInfo.hasPreviousPage).toBe(true);
      forward.push(...ids(page));
    }
    expect(forward).toEqual(all);
    expect(page.totalCount).toBe(7);

    const backward: string[] = [];
    page = await pageOf({ last: 2 });
    expect(page.pageInfo.hasNextPage).toBe(false);
    backward.unshift(...ids(page));
    while (page.pageInfo.hasPreviousPage) {
      page = await pageOf({ last: 2, before: page.pageInfo.startCursor });
      expect(page.pageInfo.hasNextPage).toBe(true);
      backward.unshift(...ids(page));
    }
    expect(backward).toEqual(all);
  });

  it('gives the edges between after and before, and reports both sides', async () => {
    const { pageOf } = await setup(docs);
    const full = await pageOf({ first: 7 });
    const cursor = (i: number) => full.edges[i]?.cursor ?? null;
    const middle = await pageOf({ first: 10, after: cursor(1), before: cursor(5) });
    expect(ids(middle)).toEqual(ids(full).slice(2, 5));
    expect(middle.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const tail = await pageOf({ last: 2, after: cursor(1), before: cursor(5) });
    expect(ids(tail)).toEqual(ids(full).slice(3, 5));
    expect(tail.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true, startCursor: cursor(3), endCursor: cursor(4) });
  });

  it('answers first: 0 with no edges but the count and whether anything follows', async () => {
    const { pageOf } = await setup(docs);
    const page = await pageOf({ first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(page.totalCount).toBe(7);
  });

  it('defaults to 20 and refuses more than the maximum, negative sizes, and first with last', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ id: `m${String(i).padStart(2, '0')}`, at: null, owner: 'o1' }));
    const { pageOf } = await setup(many);
    expect((await pageOf({})).edges).toHaveLength(20);
    expect((await pageOf({ first: MAX_PAGE_SIZE })).edges).toHaveLength(25);
    const error = await expectCode(() => pageOf({ first: MAX_PAGE_SIZE + 1 }), 'BAD_USER_INPUT', 'first');
    expect(error.details.max).toBe(MAX_PAGE_SIZE);
    await expectCode(() => pageOf({ last: -1 }), 'BAD_USER_INPUT', 'last');
    await expectCode(() => pageOf({ first: 1.5 }), 'BAD_USER_INPUT', 'first');
    await expectCode(() => pageOf({ first: 1, last: 1 }), 'BAD_USER_INPUT', 'last');
  });

  it('refuses a cursor it did not give out, or one of another list', async () => {
    const { pageOf } = await setup(docs);
    await expectCode(() => pageOf({ after: 'garbage' }), 'BAD_USER_INPUT', 'after');
    await expectCode(() => pageOf({ before: encodeCursor('other-list', ['2025-01-01', 't1']) }), 'BAD_USER_INPUT', 'before');
    await expectCode(() => pageOf({ after: Buffer.from('{"a":1}').toString('base64url') }), 'BAD_USER_INPUT', 'after');
    await expectCode(() => pageOf({ after: encodeCursor('things', ['2025-01-01']) }), 'BAD_USER_INPUT', 'after');
    expect(() => decodeCursor('things', encodeCursor('things', [1, 'x']), 'after', 2)).not.toThrow();
  });

  it('computes totalCount and the far side only when read', async () => {
    const { things } = await setup(docs);
    const count = jest.spyOn(things, 'count');
    const find = jest.spyOn(things, 'find');
    const connection = (await pageDocuments(ThingConnection, things, { list: 'things', orderBy: { field: 'at', direction: 'asc' } }, { first: 2 }, (d) => d)) as unknown as Resolved;
    expect(find).toHaveBeenCalledTimes(1);
    expect(count).not.toHaveBeenCalled();
    expect(await connection.totalCount).toBe(7);
    expect(count).toHaveBeenCalledTimes(1);
  });

  it('pages an in-memory list like a collection, in both directions (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 6 }), async (length, size) => {
        const items = Array.from({ length }, (_, i) => ({ version: i + 1 }));
        const query = { list: 'timeline', keyOf: (t: { version: number }) => t.version, compare: (a: string | number, b: string | number) => Number(a) - Number(b) };
        const pageOf = (args: ConnectionArgs) =>
          pageArray(ThingConnection, items, query, args, (page) => page as unknown as Thing[]) as unknown as Promise<Versioned>;
        const seen: number[] = [];
        let page = await pageOf({ first: size });
        seen.push(...page.edges.map((e) => e.node.version));
        while (page.pageInfo.hasNextPage) {
          page = await pageOf({ first: size, after: page.pageInfo.endCursor });
          expect(page.pageInfo.hasPreviousPage).toBe(true);
          seen.push(...page.edges.map((e) => e.node.version));
        }
        expect(seen).toEqual(items.map((t) => t.version));
        const back: number[] = [];
        page = await pageOf({ last: size });
        back.unshift(...page.edges.map((e) => e.node.version));
        while (page.pageInfo.hasPreviousPage) {
          page = await pageOf({ last: size, before: page.pageInfo.startCursor });
          back.unshift(...page.edges.map((e) => e.node.version));
        }
        expect(back).toEqual(seen);
        expect(page.totalCount).toBe(length);
        const withGaps = (await pageArray(ThingConnection, items, query, { first: 30 }, (page) => page.map((t) => (t.version % 2 ? (t as unknown as Thing) : null)))) as unknown as Versioned;
        expect(withGaps.edges.map((e) => e.node.version)).toEqual(items.filter((t) => t.version % 2).map((t) => t.version));
      }),
      { numRuns: 60 },
    );
  });
});
