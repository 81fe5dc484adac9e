// What a subscribe must be before the engine takes it, whatever the transport: a document that
// parses and validates against the API schema within the operation limits (cached by its text), a
// subscription operation, variables that coerce, and a valid resume cursor.
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { LRUCache } from 'lru-cache';
import { formatCursor, parseCursor, SubscriptionExtension } from '../../platform/subscription-protocol';
import { limitedParseOptions, queryLimitRules, type QueryLimits } from '../query-limits';

/** What a client sends to subscribe, whatever the transport. */
export interface SubscribePayload {
  readonly query: string;
  readonly operationName?: string | null | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly extensions?: Readonly<Record<string, unknown>> | null | undefined;
}

/** A subscribe that passed validation. */
export interface ValidSubscribe {
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** Coerced variables of the operation. */
  readonly variables: Record<string, unknown>;
  readonly cursor: string | null;
}

/** Validated subscribe documents kept per gateway. */
const VALIDATED_DOCUMENTS_KEPT = 1000;

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    extensions: { ...error.extensions, code },
  });
}

const badRequest = (message: string): GraphQLError[] => [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })];

export class SubscribeValidation {
  private readonly parseOptions: ReturnType<typeof limitedParseOptions>;
  private readonly rules: readonly ValidationRule[];
  // Documents that passed parsing and validation, by their text. Clients reconnecting after a
  // gateway restart send the same few documents thousands of times; parsing and validating each
  // again cost about 0.4 ms (more than planning, which is cached too). The least recently used go first.
  private readonly validated = new LRUCache<string, DocumentNode>({ max: VALIDATED_DOCUMENTS_KEPT });

  constructor(
    private readonly schema: GraphQLSchema,
    limits: QueryLimits,
  ) {
    this.parseOptions = limitedParseOptions(limits);
    this.rules = [...specifiedRules, ...queryLimitRules(limits)];
  }

  /**
   * The subscribe, checked; or the errors it is refused with. The resume cursor is
   * `extensions.cursor`, or `transportCursor` when the transport has its own (SSE's Last-Event-ID).
   */
  validate(payload: SubscribePayload, transportCursor?: unknown): ValidSubscribe | GraphQLError[] {
    if (typeof payload.query !== 'string') return badRequest('The request has no query.');
    const document = this.validDocument(payload.query);
    if (Array.isArray(document)) return document;
    const operation = getOperationAST(document, payload.operationName ?? undefined);
    if (!operation) return badRequest('Unable to identify the operation: pass operationName.');
    if (operation.operation !== 'subscription') {
      return badRequest('Only subscriptions are served here: send queries and mutations as HTTP POST (or GET for queries) to /graphql.');
    }
    const coerced = getVariableValues(this.schema, operation.variableDefinitions ?? [], payload.variables ?? {});
    if (coerced.errors) return coerced.errors.map((e) => withCode(e, 'BAD_USER_INPUT'));
    const cursor = resumeCursor(payload.extensions?.[SubscriptionExtension.Cursor] ?? transportCursor);
    if (Array.isArray(cursor)) return cursor;
    return { document, operationName: payload.operationName ?? undefined, variables: coerced.coerced as Record<string, unknown>, cursor };
  }

  /** A client's document for locating errors in it: validated already, else parsed (undefined when it does not parse). */
  documentOf(query: string): DocumentNode | undefined {
    const known = this.validated.get(query);
    if (known) return known;
    try {
      return parse(query, this.parseOptions);
    } catch {
      return undefined;
    }
  }

  private validDocument(query: string): DocumentNode | GraphQLError[] {
    const known = this.validated.get(query);
    if (known) return known;
    let document: DocumentNode;
    try {
      document = parse(query, this.parseOptions);
    } catch (error) {
      return [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')];
    }
    const validationErrors = validate(this.schema, document, this.rules);
    if (validationErrors.length > 0) return validationErrors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    this.validated.set(query, document);
    return document;
  }
}

function resumeCursor(raw: unknown): string | null | GraphQLError[] {
  try {
    const position = parseCursor(raw);
    return position === null ? null : formatCursor(position);
  } catch (error) {
    return [new GraphQLError((error as Error).message, { extensions: { code: 'BAD_USER_INPUT', field: 'extensions.cursor' } })];
  }
}
