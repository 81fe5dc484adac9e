// Relay cursor connections, the one way every growing list of the API pages: the page arguments
// (first/after, last/before) and their bounds, opaque cursors, PageInfo and the generic
// Connection/Edge types, and paging over a DocumentStore collection (keyset) or a sorted array.
import { ArgsType, Directive, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { cursorOf, type Cursor, type Doc, type DocumentCollection, type FieldOf, type FindQuery, type Where } from '../../messaging/state/document-store';
import { findDocuments } from './request-loaders';
import { ValidationError } from '../../platform/errors';

/** Elements of a page when the client gives neither `first` nor `last`. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most elements one page may ask for. */
export const MAX_PAGE_SIZE = 100;

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, {
    nullable: true,
    description: `The first n elements after \`after\` (0 to ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when neither first nor last is given).`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Only elements after this cursor (an edge `cursor` or `pageInfo.endCursor` of the same list).' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: `The last n elements before \`before\` (0 to ${MAX_PAGE_SIZE}); not with first.` })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'Only elements before this cursor (an edge `cursor` or `pageInfo.startCursor` of the same list).' })
  before?: string | null;
}

@Directive('@shareable')
@ObjectType({ description: 'Where a page lies in its list: whether there is more on either side, and the cursors to get it.' })
export class PageInfo {
  @Field({ description: 'True when elements follow this page: ask for them with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when elements precede this page: ask for them with `last` and `before: startCursor`.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge of this page (null when it is empty).' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge of this page (null when it is empty).' })
  endCursor!: string | null;
}

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

/** A page as resolvers return it; counts and the far side's flag are computed only when asked for. */
export interface Page<T> {
  readonly edges: readonly Edge<T>[];
  readonly pageInfo: PageInfo;
  readonly totalCount: number | Promise<number>;
}

/**
 * The Connection type of a node type: `NameConnection { edges: [NameEdge!]! pageInfo totalCount }`
 * and `NameEdge { cursor node }`. Extend it with a decorated class:
 * `@ObjectType({ description }) class OrderConnection extends ConnectionOf(Order, 'Order', 'order') {}`.
 */
export function ConnectionOf<T extends object>(node: ClassType<T>, name: string, what: string) {
  @ObjectType(`${name}Edge`, { description: `One ${what} of a page, with its cursor.` })
  class EdgeType {
    @Field({ description: `Opaque cursor of this ${what}: pass it as \`after\` or \`before\` to page from here.` })
    cursor!: string;

    @Field(() => node, { description: `The ${what}.` })
    node!: T;
  }

  @ObjectType()
  abstract class ConnectionBase {
    @Field(() => [EdgeType], { description: `The ${what} edges of this page, in the list's order.` })
    edges!: Edge<T>[];

    @Field(() => PageInfo, { description: 'Whether more pages follow or precede, and the cursors to fetch them.' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: `Every ${what} of the list with the same filters, all pages together.` })
    totalCount!: number;
  }
  return ConnectionBase;
}

// ---------------------------------------------------------------------------------------------
// Arguments and cursors

export interface PageRequest<K> {
  /** forward: `first` elements after `after`; backward: `last` elements before `before`. */
  readonly direction: 'forward' | 'backward';
  readonly size: number;
  readonly after: K | null;
  readonly before: K | null;
}

type KeyPart = string | number | null;

function isKeyPart(value: unknown): value is KeyPart {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** An opaque cursor: the list's name and the element's sort key, as base64url JSON. */
export function encodeCursor(list: string, key: readonly KeyPart[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/** The key in a cursor of `list`; BAD_USER_INPUT naming the argument when it is not one. */
export function decodeCursor(list: string, cursor: string, argument: 'after' | 'before', parts: number): KeyPart[] {
  const refuse = () =>
    new ValidationError(`${argument} is not a cursor of this list: pass an edge \`cursor\` (or pageInfo.startCursor/endCursor) this list gave you.`, {
      field: argument,
    });
  if (cursor.length > 2048) throw refuse();
  let decoded: unknown;
  try {
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw refuse();
    decoded = JSON.parse(text);
  } catch {
    throw refuse();
  }
  if (!Array.isArray(decoded) || decoded.length !== parts + 1 || decoded[0] !== list || !decoded.slice(1).every(isKeyPart)) throw refuse();
  return decoded.slice(1) as KeyPart[];
}

function checkSize(argument: 'first' | 'last', value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new ValidationError(`${argument} must be a whole number from 0 to ${MAX_PAGE_SIZE}: page through longer lists with cursors.`, {
      field: argument,
      max: MAX_PAGE_SIZE,
    });
  }
  return value;
}

/** Validate the page arguments; `decode` turns a cursor into the list's key (or throws BAD_USER_INPUT). */
export function pageRequest<K>(args: ConnectionArgs, decode: (cursor: string, argument: 'after' | 'before') => K): PageRequest<K> {
  const first = args.first ?? null;
  const last = args.last ?? null;
  if (first !== null && last !== null) {
    throw new ValidationError('Pass first or last, not both: first pages forwards, last backwards.', { field: 'last' });
  }
  const after = args.after ? decode(args.after, 'after') : null;
  const before = args.before ? decode(args.before, 'before') : null;
  if (last !== null) return { direction: 'backward', size: checkSize('last', last), after, before };
  return { direction: 'forward', size: first === null ? DEFAULT_PAGE_SIZE : checkSize('first', first), after, before };
}

function pageInfo(edges: readonly Edge<unknown>[], hasNextPage: () => boolean | Promise<boolean>, hasPreviousPage: () => boolean | Promise<boolean>): PageInfo {
  // The flag of the side the client did not page towards may cost a query: computed when read.
  const info = Object.assign(new PageInfo(), {
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  });
  Object.defineProperty(info, 'hasNextPage', { enumerable: true, get: hasNextPage });
  Object.defineProperty(info, 'hasPreviousPage', { enumerable: true, get: hasPreviousPage });
  return info;
}

function page<T, C extends object>(
  connection: ClassType<C>,
  edges: readonly Edge<T>[],
  info: PageInfo,
  totalCount: () => number | Promise<number>,
): C {
  const result = Object.assign(new connection(), { edges, pageInfo: info });
  Object.defineProperty(result, 'totalCount', { enumerable: true, get: totalCount });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Paging a DocumentStore collection by keyset: (sort field, id), in one direction.

export interface DocumentListQuery<D extends Doc> {
  /** Names the list in its cursors, so a cursor of another list is refused. */
  readonly list: string;
  readonly where?: Where<D>;
  /** The list's order; ties are broken by id. */
  readonly orderBy: { readonly field: FieldOf<D>; readonly direction: 'asc' | 'desc' };
  /**
   * The request (its context object) whose pages of this collection are read together: one list per
   * row of a page (each member's certifications) is then one read, not one per row.
   */
  readonly batchIn?: object;
}

/** One page of a collection as a connection of `toNode(doc)`. */
export async function pageDocuments<D extends Doc, T, C extends object>(
  connection: ClassType<C>,
  collection: DocumentCollection<D>,
  query: DocumentListQuery<D>,
  args: ConnectionArgs,
  toNode: (doc: D) => T,
): Promise<C> {
  const { field, direction } = query.orderBy;
  const reverse = direction === 'asc' ? 'desc' : 'asc';
  const where = query.where ?? {};
  const request = pageRequest<Cursor>(args, (cursor, argument) => {
    const [value, id] = decodeCursor(query.list, cursor, argument, 2);
    if (typeof id !== 'string') throw new ValidationError(`${argument} is not a cursor of this list.`, { field: argument });
    return { value: value ?? null, id };
  });
  const cursorFor = (doc: D) => {
    const key = cursorOf(doc, field);
    return encodeCursor(query.list, [key.value, key.id]);
  };
  const exists = async (order: 'asc' | 'desc', after: Cursor) =>
    (await collection.find({ where, orderBy: { field, direction: order }, after, limit: 1 })).length > 0;
  const bounds = (after: Cursor | null, before: Cursor | null) => ({ ...(after ? { after } : {}), ...(before ? { before } : {}) });

  const read = (find: FindQuery<D>) => (query.batchIn ? findDocuments(query.batchIn, collection, find) : collection.find(find));
  let docs: D[];
  let more: boolean;
  if (request.direction === 'forward') {
    docs = await read({ where, orderBy: { field, direction }, ...bounds(request.after, request.before), limit: request.size + 1 });
    more = docs.length > request.size;
    docs = docs.slice(0, request.size);
  } else {
    // Backwards is forwards in the opposite order, from `before` (and bounded by `after`).
    docs = await read({ where, orderBy: { field, direction: reverse }, ...bounds(request.before, request.after), limit: request.size + 1 });
    more = docs.length > request.size;
    docs = docs.slice(0, request.size).reverse();
  }
  const edges = docs.map((doc) => ({ cursor: cursorFor(doc), node: toNode(doc) }));
  const first = docs[0];
  const last = docs[docs.length - 1];
  const forward = request.direction === 'forward';
  // Past the page's far edge there can be more only when a cursor bounded it there: then look
  // (when the flag is read) for anything beyond the edge, the bounding element included.
  const beyondLast = () => (request.before === null ? false : last ? exists(direction, cursorOf(last, field)) : true);
  const beyondFirst = () => (request.after === null ? false : first ? exists(reverse, cursorOf(first, field)) : true);
  const hasNext = () => (forward && more) || beyondLast();
  const hasPrevious = () => (!forward && more) || beyondFirst();
  return page(connection, edges, pageInfo(edges, hasNext, hasPrevious), () => collection.count(where));
}

// ---------------------------------------------------------------------------------------------
// Paging a list already in memory and in order (small lists: a certification's timeline, the
// member search index), by a unique key per element.

export interface ArrayListQuery<T> {
  readonly list: string;
  /** A unique, ordered key of an element: its position in the list is found by it. */
  readonly keyOf: (item: T) => string | number;
  /** Compare two keys in the list's order. */
  readonly compare: (a: string | number, b: string | number) => number;
}

/**
 * One page of `items` as a connection. `toNodes` turns the page's items into nodes in one go (a
 * batch read, say); an item it answers null for is left out of the page.
 */
export async function pageArray<T, N, C extends object>(
  connection: ClassType<C>,
  items: readonly T[],
  query: ArrayListQuery<T>,
  args: ConnectionArgs,
  toNodes: (items: readonly T[]) => readonly (N | null)[] | Promise<readonly (N | null)[]>,
): Promise<C> {
  const request = pageRequest<string | number>(args, (cursor, argument) => {
    const [key] = decodeCursor(query.list, cursor, argument, 1);
    if (key === null || key === undefined) throw new ValidationError(`${argument} is not a cursor of this list.`, { field: argument });
    return key;
  });
  // The window between the cursors (exclusive), then `size` from the paged side.
  let start = 0;
  let end = items.length;
  if (request.after !== null) {
    const after = request.after;
    while (start < end && query.compare(query.keyOf(items[start] as T), after) <= 0) start++;
  }
  if (request.before !== null) {
    const before = request.before;
    while (end > start && query.compare(query.keyOf(items[end - 1] as T), before) >= 0) end--;
  }
  const from = request.direction === 'forward' ? start : Math.max(start, end - request.size);
  const to = request.direction === 'forward' ? Math.min(end, start + request.size) : end;
  const selected = items.slice(from, to);
  const nodes = await toNodes(selected);
  const edges = selected.flatMap((item, i) => {
    const node = nodes[i];
    return node === null || node === undefined ? [] : [{ cursor: encodeCursor(query.list, [query.keyOf(item)]), node }];
  });
  return page(
    connection,
    edges,
    pageInfo(
      edges,
      () => to < items.length,
      () => from > 0,
    ),
    () => items.length,
  );
}
