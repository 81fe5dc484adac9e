// How the gateway calls a subgraph: over HTTP, with the caller's identity signed with
// SUBGRAPH_SECRET in one header (subgraphs refuse calls without it) and the correlation id in
// another. A GraphQLDataSource of its own on undici's connection pool (`undici.request`) rather
// than RemoteGraphQLDataSource: that one defaults to make-fetch-happen (an HTTP cache the gateway
// never uses, agent-base reading a stack trace per request: a tenth of the gateway's CPU under
// load), and even with node-fetch as its fetcher it builds node-fetch Headers and a Request per
// call that nothing here reads; node-fetch on Node's http agent costs about twice what undici does
// per call, Node's own fetch more.
//
// Left out from RemoteGraphQLDataSource: automatic persisted queries (off there by default) and the
// subgraphs' Cache-Control headers as cache hints (our subgraphs declare no hints, so their answers
// never widen or narrow the gateway's cache policy: it stays at no caching either way).
import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { Agent, request as undiciRequest } from 'undici';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, signForwardedIdentity } from '../platform/auth';
import type { GatewayContext } from './context';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency-key';

// An idle connection is closed by us after 4 s, long before the subgraph's server would close it
// (KEEP_ALIVE_TIMEOUT_MS, 65 s; 5 s for a server on Node's default): otherwise a request can go out
// on a socket the server is closing, and fail with ECONNRESET.
const FREE_SOCKET_TIMEOUT_MS = 4000;
/** A subgraph that takes the request and does not answer fails the call after this long. */
const SUBGRAPH_TIMEOUT_MS = 30_000;
const subgraphAgent = new Agent({
  keepAliveTimeout: FREE_SOCKET_TIMEOUT_MS,
  keepAliveMaxTimeout: FREE_SOCKET_TIMEOUT_MS,
  headersTimeout: SUBGRAPH_TIMEOUT_MS,
  bodyTimeout: SUBGRAPH_TIMEOUT_MS,
});

function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && (value.startsWith('application/json') || value.startsWith('application/graphql-response+json'));
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  if (!isJson(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class SignedSubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    readonly url: string,
    private readonly subgraphSecret: string,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    // Health checks and schema loads run without a request context.
    const identity = 'identity' in context ? (context.identity ?? null) : null;
    const correlationId = 'correlationId' in context && context.correlationId ? context.correlationId : 'gateway';
    const headers: Record<string, string> = {};
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name] = value;
    headers['content-type'] = 'application/json';
    headers[GATEWAY_IDENTITY_HEADER] = signForwardedIdentity(identity, this.subgraphSecret);
    headers[CORRELATION_ID_HEADER] = correlationId;
    if ('idempotencyKey' in context && context.idempotencyKey) headers[IDEMPOTENCY_KEY_HEADER] = context.idempotencyKey;
    const { http: _http, ...operation } = request;

    let answer;
    try {
      answer = await undiciRequest(this.url, { dispatcher: subgraphAgent, method: 'POST', headers, body: JSON.stringify(operation) });
    } catch (error) {
      throw new Error(`request to ${this.url} failed, reason: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const status = answer.statusCode;
    const body = parseBody(await answer.body.text(), answer.headers['content-type']);
    if (status < 200 || status > 299) {
      // As RemoteGraphQLDataSource reports it: `<status>: <text>`, the answer in extensions, 401/403 coded.
      const statusText = STATUS_CODES[status] ?? '';
      throw new GraphQLError(`${status}: ${statusText}`, {
        extensions: {
          response: { url: this.url, status, statusText, body },
          ...(status === 401 ? { code: 'UNAUTHENTICATED' } : status === 403 ? { code: 'FORBIDDEN' } : {}),
        },
      });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new Error(`Expected JSON response body, but received: ${String(body)}`);
    }
    return body as GatewayGraphQLResponse;
  }
}
