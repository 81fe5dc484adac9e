// How the gateway calls a subgraph: over HTTP, with the caller's identity and correlation id in a
// header signed with SUBGRAPH_SECRET (subgraphs refuse calls without it). Requests go through
// node-fetch on a keep-alive agent: Apollo's default make-fetch-happen stack (an HTTP cache the
// gateway never uses, agent-base reading a stack trace per request) took about a tenth of the
// gateway's CPU under load, and Node's own fetch (web streams) more.
import http from 'node:http';
import https from 'node:https';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import nodeFetch from 'node-fetch';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, signForwardedIdentity } from '../platform/auth';
import type { GatewayContext } from './context';

export class SignedSubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly subgraphSecret: string,
  ) {
    super({ url, fetcher: subgraphFetcher });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Health checks and schema loads run without a request context.
    const identity = 'identity' in context ? (context.identity ?? null) : null;
    const correlationId = 'correlationId' in context && context.correlationId ? context.correlationId : 'gateway';
    request.http?.headers.set(GATEWAY_IDENTITY_HEADER, signForwardedIdentity({ identity, correlationId }, this.subgraphSecret));
    request.http?.headers.set(CORRELATION_ID_HEADER, correlationId);
  }
}

// An idle connection is closed by us after 4 s, long before the subgraph's server would close it
// (KEEP_ALIVE_TIMEOUT_MS, 65 s; 5 s for a server on Node's default): otherwise a request can go out
// on a socket the server is closing, and fail with ECONNRESET.
const FREE_SOCKET_TIMEOUT_MS = 4000;
const agents = {
  http: new http.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS }),
  https: new https.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS }),
};

const subgraphFetcher: RemoteGraphQLDataSource['fetcher'] = (url, init) =>
  nodeFetch(url, { ...init, agent: (parsed: URL) => (parsed.protocol === 'https:' ? agents.https : agents.http) } as Parameters<typeof nodeFetch>[1]);
