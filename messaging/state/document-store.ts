// The DocumentStore port: keyed JSON documents in named collections, for read models, projections,
// consumer bookkeeping and checkpoints. Adapters: in-memory (tests), SQLite (embedded default), MongoDB.

/** Every document has a string id; the rest is JSON-safe data (no Dates, functions, undefined in arrays). */
export interface Doc {
  readonly id: string;
}

/** A top-level field of a document type (nested paths are not queryable: keep queried fields flat). */
export type FieldOf<T> = keyof T & string;

/** A value a `where` clause can compare with: equality on scalars; `null` matches null or missing. */
export type Scalar = string | number | boolean | null;

/**
 * Bounds on one field, for keyset pages and date windows: a document matches when its value is of
 * the bounds' type (all bounds numbers, or all strings, compared by code point) and within every
 * bound given. Null, missing and other-typed values never match a range.
 */
export interface Range {
  readonly gt?: string | number;
  readonly gte?: string | number;
  readonly lt?: string | number;
  readonly lte?: string | number;
}

/** A condition on one field: equality with a scalar, or a range. */
export type Condition = Scalar | Range;

/** Conditions on top-level fields (equality on scalars, or ranges), combined with AND. */
export type Where<T> = { readonly [K in FieldOf<T>]?: Condition };

export interface CollectionOptions<T> {
  /** Fields queried with `where`, `orderBy` or `prefix` often enough to deserve an index. */
  readonly indexes?: readonly FieldOf<T>[];
  /**
   * Fields looked up by value but null or missing in most documents (a replay run's id on markers
   * written mostly live): indexed only where they hold a value, so that writing the other documents
   * costs nothing. A `where` on null still answers, without the index. Results never differ from
   * `indexes`; MongoDB indexes such a field fully (its planner uses a partial index only for the
   * queries that imply the index's filter).
   */
  readonly sparseIndexes?: readonly FieldOf<T>[];
  /**
   * Fields an earlier version indexed and this one no longer does: their (non-unique) indexes are
   * dropped where they exist, since every write still paid for them. Queries on such a field still
   * answer, without an index. A field also listed in `indexes` or `sparseIndexes` keeps its index.
   */
  readonly retiredIndexes?: readonly string[];
  /**
   * Fields no two documents may share. Values of a unique field must be strings; documents
   * where it is missing or null are not constrained. Comparison is exact (normalise case first).
   */
  readonly unique?: readonly FieldOf<T>[];
}

/** Keyset cursor: the orderBy value and id of the last document of the previous page. */
export interface Cursor {
  readonly value: string | number | null;
  readonly id: string;
}

export interface FindQuery<T> {
  readonly where?: Where<T>;
  /** Case-insensitive "starts with" on a string field (search boxes). */
  readonly prefix?: { readonly field: FieldOf<T>; readonly value: string };
  /**
   * Sort field; ties are broken by id in the same direction. Default: id ascending.
   * The field must hold numbers only or strings only across the collection (missing/null allowed,
   * sorting first ascending): adapters compare mixed types differently. Strings compare by code point.
   */
  readonly orderBy?: { readonly field: FieldOf<T>; readonly direction?: 'asc' | 'desc' };
  /** Only documents strictly after this cursor in the order above. Build it with `cursorOf`. */
  readonly after?: Cursor;
  /**
   * Only documents strictly before this cursor in the order above (with `after`, the documents
   * between both). Paging backwards is a `find` in the opposite direction with `after`.
   */
  readonly before?: Cursor;
  /** At most this many documents (0 returns none). Default: all. */
  readonly limit?: number;
}

export interface DocumentCollection<T extends Doc> {
  readonly name: string;
  get(id: string): Promise<T | null>;
  /** Documents with these ids, in the order asked; missing ids are skipped, repeated ids returned once. */
  getMany(ids: readonly string[]): Promise<T[]>;
  /** Insert or replace by id. Throws DomainError CONFLICT naming the field on a unique violation. */
  put(doc: T): Promise<void>;
  /**
   * Atomic insert-if-absent: false when a document with this id already exists (it is left as is).
   * Throws DomainError CONFLICT on a unique violation by another document.
   */
  insert(doc: T): Promise<boolean>;
  /**
   * Atomic read-modify-write of one document, safe against concurrent writers (also in other
   * processes). `change` gets the current document (null when absent) and returns the new one, or
   * null to leave it untouched; it may run more than once under contention, so keep it pure.
   * Resolves to the document as stored afterwards (null if absent and left untouched).
   */
  update(id: string, change: (current: T | null) => T | null): Promise<T | null>;
  /** True when a document was deleted. */
  delete(id: string): Promise<boolean>;
  find(query?: FindQuery<T>): Promise<T[]>;
  /**
   * Several finds in one read, each answered as `find` would, in the order given. Optional: an
   * adapter that can answer them together (SQLite: one statement) has it; for the others,
   * `findEach` runs the finds one by one.
   */
  findMany?(queries: readonly FindQuery<T>[]): Promise<T[][]>;
  count(where?: Where<T>): Promise<number>;
  /** Remove every document, keep the indexes (projection rebuilds). */
  clear(): Promise<void>;
}

export interface DocumentStore {
  /**
   * A collection by name (letters, digits, `_`, `-`, `.`; starting with a letter). Calling again
   * with more indexes adds them. Indexes are created before the first operation completes.
   */
  collection<T extends Doc>(name: string, options?: CollectionOptions<T>): DocumentCollection<T>;
  close(): Promise<void>;
}

/** Several finds on one collection: in one read where the adapter has `findMany`, else one by one. */
export function findEach<T extends Doc>(collection: DocumentCollection<T>, queries: readonly FindQuery<T>[]): Promise<T[][]> {
  if (collection.findMany) return collection.findMany(queries);
  return Promise.all(queries.map((query) => collection.find(query)));
}

/** The cursor that continues a `find` after `doc` ordered by `field`. */
export function cursorOf<T extends Doc>(doc: T, field: FieldOf<T> = 'id' as FieldOf<T>): Cursor {
  const value: unknown = doc[field];
  if (value === undefined || value === null) return { value: null, id: doc.id };
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new TypeError(`cursorOf: field "${field}" must hold a string or a number to page on it.`);
  }
  return { value, id: doc.id };
}
