// One error shape for clients, whatever the transport (HTTP or WebSocket) and wherever the error
// arose (the gateway, or a subgraph behind it): `message`, `path` and `locations` where they apply,
// `extensions.code` and the error's documented details. Locations always point into the client's
// own document: a subgraph's locations are into the query the gateway sent it, so they are
// recomputed from the error's path; internal names (`serviceName`) and debugging aids never leave.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  getOperationAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type SourceLocation,
} from 'graphql';

/** Extensions that only make sense inside the system. */
const INTERNAL_EXTENSIONS = new Set(['serviceName', 'exception', 'stacktrace']);

/** The client's operation an error belongs to. */
export interface ClientOperation {
  readonly operation: OperationDefinitionNode;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
}

export function clientOperation(document: DocumentNode | undefined, operationName?: string | null): ClientOperation | null {
  if (!document) return null;
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return null;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return { operation, fragments };
}

/**
 * Where in the client's document the field at `path` is: every field node the response key
 * (alias or name) can come from, through inline fragments and fragment spreads; list indices skip.
 */
export function locationsOfPath(client: ClientOperation, path: readonly (string | number)[]): SourceLocation[] {
  let sets: SelectionSetNode[] = [client.operation.selectionSet];
  let found: { loc?: { startToken: { line: number; column: number } } }[] = [];
  for (const segment of path) {
    if (typeof segment === 'number') continue;
    const fields = sets.flatMap((set) => fieldsIn(set, segment, client.fragments, new Set()));
    if (fields.length === 0) return [];
    found = fields;
    sets = fields.flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
  }
  return found.flatMap((node) => (node.loc ? [{ line: node.loc.startToken.line, column: node.loc.startToken.column }] : []));
}

function fieldsIn(
  set: SelectionSetNode,
  key: string,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  visited: Set<string>,
): { selectionSet?: SelectionSetNode; loc?: { startToken: { line: number; column: number } } }[] {
  const out: { selectionSet?: SelectionSetNode; loc?: { startToken: { line: number; column: number } } }[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if ((selection.alias?.value ?? selection.name.value) === key) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      out.push(...fieldsIn(selection.selectionSet, key, fragments, visited));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (fragment && !visited.has(name)) out.push(...fieldsIn(fragment.selectionSet, key, fragments, new Set([...visited, name])));
    }
  }
  return out;
}

/**
 * The error as a client gets it. `fromSubgraph`: its locations (if any) are into a subgraph's query,
 * not the client's; the gateway's own errors (parse, validation) keep theirs.
 */
export function toClientError(error: GraphQLFormattedError, client: ClientOperation | null, fromSubgraph = false): GraphQLFormattedError {
  const extensions = Object.fromEntries(Object.entries(error.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key)));
  const subgraphs = fromSubgraph || typeof error.extensions?.serviceName === 'string';
  const path = error.path && error.path.length > 0 ? error.path : undefined;
  let locations: readonly SourceLocation[] | undefined = subgraphs ? undefined : error.locations;
  if (path && client) {
    const located = locationsOfPath(client, path);
    if (located.length > 0) locations = located;
  }
  return {
    message: error.message,
    ...(locations && locations.length > 0 ? { locations } : {}),
    ...(path ? { path } : {}),
    extensions: { ...extensions, code: typeof extensions.code === 'string' ? extensions.code : 'INTERNAL_SERVER_ERROR' },
  };
}

interface ResultLike {
  errors?: readonly GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * A result's errors in the client shape. @apollo/gateway reports a non-null field it had to null
 * (a subgraph answered null for it) under `extensions.valueCompletion` instead of `errors`; those
 * are errors like any other, so they join `errors` and the extension goes.
 */
export function clientResultErrors(
  result: ResultLike,
  client: ClientOperation | null,
): { errors: GraphQLFormattedError[] | undefined; extensions: Record<string, unknown> | undefined } {
  const { valueCompletion, ...extensions } = result.extensions ?? {};
  const completion = Array.isArray(valueCompletion) ? (valueCompletion as GraphQLFormattedError[]) : [];
  const all = [...(result.errors ?? []), ...completion].map((e) => toClientError(e, client));
  return { errors: all.length > 0 ? all : undefined, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}

/** Apollo Server plugin: every error of an HTTP response in the client shape. */
export function useClientErrors<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, document, request, operationName }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors && !result.extensions?.valueCompletion) return;
          const { errors, extensions } = clientResultErrors(result, clientOperation(document, operationName ?? request.operationName));
          if (errors) result.errors = errors;
          if (extensions) result.extensions = extensions;
          else delete result.extensions;
        },
      };
    },
  };
}
