// The console's one way to the API: queries and mutations over HTTP at /graphql, subscriptions
// over graphql-ws on the same path, both with the signed-in bearer token. The WebSocket's state
// (connected, reconnecting) is observable so every page can show when it dropped.
import { createClient, type Client } from 'graphql-ws';

export interface GraphQLErrorShape {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly field?: string; readonly [key: string]: unknown };
}

/** An answer with errors: the API's coded errors, kept whole so forms can show them by field. */
export class ApiError extends Error {
  constructor(readonly errors: readonly GraphQLErrorShape[]) {
    super(errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message)).join('\n'));
    this.name = 'ApiError';
  }
  /** The error about one input field (by `extensions.field`, which names it), if any. */
  forField(field: string): GraphQLErrorShape | undefined {
    const names = (e: GraphQLErrorShape): string | undefined => {
      if (typeof e.extensions?.field === 'string') return e.extensions.field;
      // A value refused by the scalar while coercing variables: "... at \"input.from\"; ...".
      return /got invalid value .* at "([^"]+)"/.exec(e.message)?.[1];
    };
    return this.errors.find((e) => {
      const named = names(e);
      return named !== undefined && (named === field || named.endsWith(`.${field}`));
    });
  }
}

export const graphqlPath = '/graphql';

export async function request<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(graphqlPath, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }))) as { data?: T; errors?: GraphQLErrorShape[] };
  if (body.errors?.length) throw new ApiError(body.errors);
  if (!body.data) throw new ApiError([{ message: `HTTP ${response.status} without data` }]);
  return body.data;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One graphql-ws client per signed-in token, retrying for ever, its state published. */
export class LiveConnection {
  readonly client: Client;
  private state: ConnectionState = 'connecting';
  private readonly watchers = new Set<(s: ConnectionState) => void>();
  /** How many times the connection dropped since sign-in (shown in the header). */
  drops = 0;

  constructor(token: string) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${graphqlPath}`;
    this.client = createClient({
      url,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 300 * 2 ** retries)));
      },
      on: {
        connecting: () => this.set(this.state === 'connecting' ? 'connecting' : 'reconnecting'),
        connected: () => this.set('connected'),
        closed: () => {
          if (this.state === 'connected') this.drops += 1;
          this.set('reconnecting');
        },
      },
    });
  }

  get current(): ConnectionState {
    return this.state;
  }

  watch(watcher: (s: ConnectionState) => void): () => void {
    this.watchers.add(watcher);
    watcher(this.state);
    return () => this.watchers.delete(watcher);
  }

  private set(state: ConnectionState): void {
    this.state = state;
    for (const w of this.watchers) w(state);
  }

  dispose(): void {
    this.set('closed');
    void this.client.dispose();
  }
}

export interface LiveOptions<T> {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** Resume after this cursor; '0' reads everything stored first; null: live only. */
  readonly cursor?: string | null;
  /** The payload's cursor (every update of this API carries one). */
  readonly cursorOf: (data: T) => string | undefined;
  readonly onData: (data: T) => void;
  readonly onError?: (error: ApiError) => void;
  readonly onComplete?: () => void;
}

/**
 * A subscription that survives drops: graphql-ws reconnects and subscribes again with the same
 * payload object, whose `extensions.cursor` this keeps at the last cursor seen, so the server sends
 * what was missed, then live ones; anything at or before that cursor is dropped (no repeats).
 * Returns the function that ends it.
 */
export function subscribeLive<T>(live: LiveConnection, options: LiveOptions<T>): () => void {
  const extensions: { cursor?: string } = options.cursor != null ? { cursor: options.cursor } : {};
  const payload = { query: options.query, variables: options.variables ?? {}, extensions };
  let stopped = false;
  const unsubscribe = live.client.subscribe<T>(payload, {
    next: (result) => {
      if (result.errors?.length) {
        options.onError?.(new ApiError(result.errors as GraphQLErrorShape[]));
        return;
      }
      if (!result.data) return;
      const next = options.cursorOf(result.data);
      if (next !== undefined) {
        if (extensions.cursor !== undefined && Number(next) <= Number(extensions.cursor)) return;
        extensions.cursor = next;
      }
      options.onData(result.data);
    },
    error: (error) => {
      if (stopped) return;
      if (Array.isArray(error)) options.onError?.(new ApiError(error as GraphQLErrorShape[]));
      else options.onError?.(new ApiError([{ message: error instanceof Error ? error.message : 'The connection failed.' }]));
    },
    complete: () => {
      if (!stopped) options.onComplete?.();
    },
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
