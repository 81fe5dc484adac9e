// The explorer: GraphiQL from the product's own bundle (no CDN), with schema docs from
// introspection, the signed-in token in its headers, queries and mutations over HTTP and
// subscriptions over graphql-ws at the same /graphql. A `x-resume-cursor` header is sent as the
// subscription's `extensions.cursor`.
import { useMemo } from 'react';
import { GraphiQL } from 'graphiql';
import type { Fetcher, FetcherParams, FetcherOpts } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';
import { graphqlPath } from '../api/client';
import { SessionContext, storedToken } from '../api/session';
import { useContext } from 'react';

const DEFAULT_QUERY = `# Queries and mutations go over HTTP, subscriptions over graphql-ws, both at /graphql.
# The token is in the headers tab. A subscription to try (admins):
#   subscription { eventFlow { eventType streamId correlationId cursor } }
{
  viewer { id role }
}
`;

function isSubscription(params: FetcherParams): boolean {
  const source = params.query.replace(/#[^\n]*/g, '');
  if (params.operationName) return new RegExp(`subscription\\s+${params.operationName}\\b`).test(source);
  return /^\s*subscription\b/.test(source);
}

function authorizationOf(headers: Record<string, unknown> | undefined): string | undefined {
  if (!headers) return undefined;
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization');
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

export function productFetcher(): Fetcher {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${graphqlPath}`;
  return (params: FetcherParams, opts?: FetcherOpts) => {
    const headers = (opts?.headers ?? {}) as Record<string, string>;
    if (isSubscription(params)) {
      const authorization = authorizationOf(headers);
      const cursorHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-resume-cursor')?.[1];
      const payload = {
        query: params.query,
        variables: params.variables ?? {},
        ...(params.operationName ? { operationName: params.operationName } : {}),
        ...(cursorHeader ? { extensions: { cursor: String(cursorHeader) } } : {}),
      };
      // An observable GraphiQL subscribes to; one connection per run, closed when it ends.
      return {
        subscribe: (observer: { next(value: unknown): void; error(error: unknown): void; complete(): void }) => {
          const client = createClient({ url: wsUrl, connectionParams: authorization ? { authorization } : {}, lazy: true, retryAttempts: 0 });
          const stop = client.subscribe(payload, {
            next: (value) => observer.next(value),
            error: (error) => {
              void client.dispose();
              // Refused by the API: show its coded errors as a result; a dropped socket as an error.
              if (Array.isArray(error)) observer.next({ errors: error });
              else observer.error(error instanceof Error ? error : new Error('The WebSocket closed.'));
            },
            complete: () => {
              void client.dispose();
              observer.complete();
            },
          });
          return {
            unsubscribe: () => {
              stop();
              void client.dispose();
            },
          };
        },
      } as never;
    }
    return fetch(graphqlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(params),
    }).then((r) => r.json());
  };
}

export default function ExplorerPage() {
  const session = useContext(SessionContext);
  const token = session?.token ?? storedToken();
  const fetcher = useMemo(() => productFetcher(), []);
  const headers = token ? JSON.stringify({ authorization: `Bearer ${token}` }, null, 2) : JSON.stringify({ authorization: 'Bearer <paste a token>' }, null, 2);
  return (
    <div className="explorer" data-testid="explorer">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} headers={headers} defaultHeaders={headers} defaultEditorToolsVisibility="headers" shouldPersistHeaders={false} />
    </div>
  );
}
