// Rules every DocumentStore adapter shares: name and query validation, the unique-conflict error,
// and the reference semantics (matching, ordering, keyset paging) that the in-memory adapter runs
// and the SQLite and MongoDB adapters translate.
import { DomainError, ValidationError } from '../../platform/errors';
import type { Cursor, Doc, FindQuery, Scalar, Where } from './document-store';

/** A range as the adapters get it: its operators in a fixed order and the one type of its bounds. */
export interface CheckedRange {
  readonly type: 'string' | 'number';
  readonly bounds: readonly (readonly [RangeOperator, string | number])[];
}

export type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';
const RANGE_OPERATORS: readonly RangeOperator[] = ['gt', 'gte', 'lt', 'lte'];

/** A checked condition: equality with a scalar, or a range. */
export type CheckedCondition = Scalar | CheckedRange;

export function isRange(condition: CheckedCondition): condition is CheckedRange {
  return typeof condition === 'object' && condition !== null;
}

const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
/** `_id` and `_rev` are how the MongoDB adapter stores the id and the revision token. */
const RESERVED_FIELDS = new Set(['_id', '_rev']);
/** `events` is the event store's collection in the same MongoDB database. */
const RESERVED_COLLECTIONS = new Set(['events']);

export function checkCollectionName(name: string): void {
  if (!COLLECTION_NAME.test(name) || name.startsWith('system.') || RESERVED_COLLECTIONS.has(name)) {
    throw new ValidationError(
      `Invalid collection name "${name}": use letters, digits, "_", "-" or ".", start with a letter, avoid "events" and "system.".`,
      { collection: name },
    );
  }
}

export function checkField(collection: string, field: string): void {
  if (!FIELD_NAME.test(field) || RESERVED_FIELDS.has(field)) {
    throw new ValidationError(`Invalid field "${field}" on collection "${collection}": use a top-level field name.`, {
      collection,
      field,
    });
  }
}

/** Validate a document before writing: a non-empty id, a plain object, no reserved fields, string unique values. */
export function checkDocument(collection: string, doc: Doc, unique: ReadonlySet<string>): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ValidationError(`A document of "${collection}" must be a plain object.`, { collection });
  }
  if (typeof doc.id !== 'string' || doc.id.length === 0 || doc.id.length > 512) {
    throw new ValidationError(`A document of "${collection}" needs a non-empty string id (at most 512 characters).`, {
      collection,
    });
  }
  for (const key of RESERVED_FIELDS) {
    if (key in doc) {
      throw new ValidationError(`A document of "${collection}" may not have a "${key}" field (reserved).`, {
        collection,
        field: key,
      });
    }
  }
  const record = doc as unknown as Record<string, unknown>;
  for (const field of unique) {
    const value = record[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new ValidationError(`Field "${field}" of "${collection}" is unique and must hold a string.`, {
        collection,
        field,
      });
    }
  }
}

export function checkWhere<T>(collection: string, where: Where<T> | undefined): [string, CheckedCondition][] {
  if (!where) return [];
  const entries: [string, CheckedCondition][] = [];
  for (const [field, value] of Object.entries(where) as [string, unknown][]) {
    if (value === undefined) continue;
    checkField(collection, field);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      entries.push([field, checkRange(collection, field, value as Record<string, unknown>)]);
      continue;
    }
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ValidationError(`where.${field} on "${collection}" must be a string, number, boolean, null or a range.`, {
        collection,
        field,
      });
    }
    entries.push([field, value]);
  }
  return entries;
}

function checkRange(collection: string, field: string, range: Record<string, unknown>): CheckedRange {
  const bounds: [RangeOperator, string | number][] = [];
  for (const key of Object.keys(range)) {
    if (range[key] !== undefined && !(RANGE_OPERATORS as readonly string[]).includes(key)) {
      throw new ValidationError(`where.${field} on "${collection}": a range takes gt, gte, lt and lte only.`, { collection, field });
    }
  }
  for (const operator of RANGE_OPERATORS) {
    const bound = range[operator];
    if (bound === undefined) continue;
    if (typeof bound !== 'string' && (typeof bound !== 'number' || !Number.isFinite(bound))) {
      throw new ValidationError(`where.${field}.${operator} on "${collection}" must be a string or a finite number.`, { collection, field });
    }
    bounds.push([operator, bound]);
  }
  const first = bounds[0];
  if (!first) throw new ValidationError(`where.${field} on "${collection}": a range needs gt, gte, lt or lte.`, { collection, field });
  const type = typeof first[1] === 'number' ? 'number' : 'string';
  if (bounds.some(([, bound]) => typeof bound !== type)) {
    throw new ValidationError(`where.${field} on "${collection}": the bounds of a range must all be numbers or all strings.`, { collection, field });
  }
  return { type, bounds };
}

export interface CheckedQuery {
  readonly where: [string, CheckedCondition][];
  readonly prefix: { readonly field: string; readonly value: string } | null;
  readonly orderField: string;
  readonly descending: boolean;
  readonly after: Cursor | null;
  readonly before: Cursor | null;
  /** null = no limit. */
  readonly limit: number | null;
}

export function checkQuery<T>(collection: string, query: FindQuery<T> = {}): CheckedQuery {
  const where = checkWhere(collection, query.where);
  let prefix: CheckedQuery['prefix'] = null;
  if (query.prefix) {
    checkField(collection, query.prefix.field);
    if (typeof query.prefix.value !== 'string') {
      throw new ValidationError(`prefix.value on "${collection}" must be a string.`, { collection });
    }
    prefix = { field: query.prefix.field, value: query.prefix.value };
  }
  const orderField = query.orderBy?.field ?? 'id';
  checkField(collection, orderField);
  const direction = query.orderBy?.direction ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') {
    throw new ValidationError(`orderBy.direction on "${collection}" must be "asc" or "desc".`, { collection });
  }
  const after = query.after ? checkCursor(collection, 'after', orderField, query.after) : null;
  const before = query.before ? checkCursor(collection, 'before', orderField, query.before) : null;
  let limit: number | null = null;
  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 0) {
      throw new ValidationError(`limit on "${collection}" must be a whole number >= 0.`, { collection });
    }
    limit = query.limit;
  }
  return { where, prefix, orderField, descending: direction === 'desc', after, before, limit };
}

function checkCursor(collection: string, name: 'after' | 'before', orderField: string, cursor: Cursor): Cursor {
  const { value, id } = cursor;
  if (typeof id !== 'string' || (value !== null && typeof value !== 'string' && typeof value !== 'number')) {
    throw new ValidationError(`${name} on "${collection}" must be { value: string | number | null, id: string }.`, { collection });
  }
  return { value: orderField === 'id' ? id : value, id };
}

/** The error every adapter throws when a write would give two documents the same unique value. */
export function uniqueConflict(collection: string, field: string, value: unknown): DomainError {
  return new DomainError(
    'CONFLICT',
    `Another document in "${collection}" already has this ${field}: choose a different ${field}.`,
    { collection, field, value: typeof value === 'string' ? value : null },
  );
}

/** Escape a literal for a regular expression (valid with and without the `u` flag, and in PCRE). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Case-insensitive "starts with" as a JS RegExp; Unicode simple case folding, close to MongoDB's `i`. */
export function prefixMatcher(prefix: string): RegExp {
  return new RegExp(`^${escapeRegExp(prefix)}`, 'iu');
}

/**
 * Compare strings by Unicode code point, the order of UTF-8 bytes that SQLite and MongoDB use
 * (JS `<` compares UTF-16 units, which puts U+10000.. before U+E000..U+FFFF).
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate && !ySurrogate && y >= 0xe000) return 1;
    if (ySurrogate && !xSurrogate && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Sort order of field values: missing/null first, then numbers, then strings (as SQLite and MongoDB). */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (v === undefined || v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) - (b as number);
  if (ra === 2) return compareStrings(a as string, b as string);
  return 0;
}

function fieldValue(doc: Doc, field: string): unknown {
  return (doc as unknown as Record<string, unknown>)[field];
}

/** The reference implementation of `find`, over documents already in memory. */
export function runQuery<T extends Doc>(docs: Iterable<T>, query: CheckedQuery): T[] {
  const matcher = query.prefix ? prefixMatcher(query.prefix.value) : null;
  const selected: T[] = [];
  for (const doc of docs) {
    if (!matchesWhere(doc, query.where)) continue;
    if (matcher && query.prefix) {
      const value = fieldValue(doc, query.prefix.field);
      if (typeof value !== 'string' || !matcher.test(value)) continue;
    }
    selected.push(doc);
  }
  const sign = query.descending ? -1 : 1;
  const order = (a: { value: unknown; id: string }, b: { value: unknown; id: string }): number =>
    sign * (compareValues(a.value, b.value) || compareStrings(a.id, b.id));
  const keyOf = (doc: T) => ({ value: fieldValue(doc, query.orderField), id: doc.id });
  selected.sort((a, b) => order(keyOf(a), keyOf(b)));
  const { after, before } = query;
  const paged =
    after || before
      ? selected.filter((doc) => (!after || order(keyOf(doc), after) > 0) && (!before || order(keyOf(doc), before) < 0))
      : selected;
  return query.limit === null ? paged : paged.slice(0, query.limit);
}

export function matchesWhere(doc: Doc, where: readonly [string, CheckedCondition][]): boolean {
  for (const [field, expected] of where) {
    const actual = fieldValue(doc, field);
    if (isRange(expected)) {
      if (!inRange(actual, expected)) return false;
    } else if (expected === null ? actual !== undefined && actual !== null : actual !== expected) return false;
  }
  return true;
}

function inRange(value: unknown, range: CheckedRange): boolean {
  if (typeof value !== range.type) return false;
  for (const [operator, bound] of range.bounds) {
    const c = range.type === 'number' ? (value as number) - (bound as number) : compareStrings(value as string, bound as string);
    if (operator === 'gt' ? !(c > 0) : operator === 'gte' ? !(c >= 0) : operator === 'lt' ? !(c < 0) : !(c <= 0)) return false;
  }
  return true;
}

/** Deep copy through JSON: what every adapter does to a document, so all return the same shapes. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
