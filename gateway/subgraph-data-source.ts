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
//
// Unlike RemoteGraphQLDataSource, a failed call never puts the subgraph's URL or raw answer in the
// error (they are logged): a 400 (the subgraph found the client's input invalid, e.g. a malformed
// date argument the gateway cannot check) becomes the client's BAD_USER_INPUT with the subgraph's
// message; anything else is a coded error naming only the subgraph.
//
// A call the subgraph refused without running it (connection refused, or 503 UNAVAILABLE from a
// draining subgraph: platform/http-drain.ts) is sent again, up to three attempts; so is a query whose
// connection broke after it went out. A mutation whose connection broke is not: it may have run.
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { Agent, type Dispatcher } from 'undici';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, signForwardedIdentity } from '../platform/auth';
import { truncate } from '../platform/client-errors';
import { loggerFor, type Logger } from '../platform/logger';
import type { GatewayContext } from './context';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency-key';
import { traceHeaders, tracingEnabled } from '../platform/tracing';

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

/** A subgraph's answer, whole. */
interface Answer {
  readonly statusCode: number;
  readonly contentType: string | string[] | undefined;
  readonly text: string;
}

/** POST `body` to `origin` + `path` on the subgraph pool; the whole answer, or the connection's error. */
function post(origin: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let statusCode = 0;
    let contentType: string | string[] | undefined;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseStart: (_controller, status, responseHeaders) => {
        statusCode = status;
        contentType = responseHeaders['content-type'];
      },
      onResponseData: (_controller, chunk) => {
        chunks.push(chunk);
        size += chunk.length;
      },
      onResponseEnd: () =>
        resolve({ statusCode, contentType, text: chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8') }),
      onResponseError: (_controller, error) => reject(error),
    };
    subgraphAgent.dispatch({ origin, path, method: 'POST', headers, body }, handler);
  });
}

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

/** The `errors` of a GraphQL answer, when the body is one. */
function graphqlErrorsOf(body: unknown): readonly { message?: unknown; extensions?: { field?: unknown } }[] | null {
  if (typeof body !== 'object' || body === null) return null;
  const errors = (body as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 ? (errors as never) : null;
}

/** A subgraph's 400 as the client's error: its messages, coded BAD_USER_INPUT (its locations point into the gateway's subquery, not the client's document). */
export function badUserInputFrom(body: unknown, subgraph: string): GatewayGraphQLResponse {
  const errors: GraphQLFormattedError[] = (graphqlErrorsOf(body) ?? [{}]).map((error) => ({
    message: typeof error.message === 'string' ? error.message : `The ${subgraph} subgraph refused the request as invalid.`,
    extensions: { code: 'BAD_USER_INPUT', ...(typeof error.extensions?.field === 'string' ? { field: error.extensions.field } : {}) },
  }));
  return { errors };
}

export class SignedSubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly logger: Logger;
  private readonly origin: string;
  private readonly path: string;

  constructor(
    readonly url: string,
    protected readonly subgraphSecret: string,
    /** The subgraph's name, the only thing about it an error tells the client. */
    readonly name = 'subgraph',
  ) {
    this.logger = loggerFor('gateway', { subgraph: name });
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.path = `${parsed.pathname}${parsed.search}`;
  }

  /** A coded error for the client (the details, URL included, go to the log). */
  protected failure(code: string, message: string, details: Record<string, unknown>): GraphQLError {
    this.logger.warn({ url: this.url, ...details }, `subgraph call failed: ${code}`);
    return new GraphQLError(message, { extensions: { code, serviceName: this.name } });
  }

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
    // The trace goes on in the subgraph: traceparent of the planner's fetch span (gateway.fetch).
    if (tracingEnabled()) Object.assign(headers, traceHeaders());
    const { http: _http, ...operation } = request;

    const payload = JSON.stringify(operation);
    // A call the subgraph refused without running it (it was not reached, or it answered 503
    // UNAVAILABLE while draining: platform/http-drain.ts) is sent again at once, on a new
    // connection: with several instances behind the URL, another takes it.
    for (let attempt = 1; ; attempt++) {
      let answer;
      try {
        answer = await post(this.origin, this.path, headers, payload);
      } catch (error) {
        const notSent = NOT_SENT_CODES.has(errorCode(error));
        // A connection closed after the request went out: a query is safe to send again, a mutation
        // may have run (the subgraph may have died after running it), so it is not.
        const safe = notSent || !isMutation(request.query);
        if (safe && attempt < MAX_ATTEMPTS) continue;
        throw this.failure(
          'UNAVAILABLE',
          safe
            ? `The ${this.name} subgraph could not be reached: try again shortly.`
            : `The ${this.name} subgraph closed the connection before answering: the mutation may have run; check before sending it again.`,
          { err: error, attempts: attempt },
        );
      }
      const { statusCode: status, text } = answer;
      const body = parseBody(text, answer.contentType);
      if (status === 503 && refusedUnexecuted(body) && attempt < MAX_ATTEMPTS) continue;
      return this.settle(status, body, () => text);
    }
  }

  /** The gateway's answer for a subgraph's status and body (`text`: the body for the log, made only on failure). */
  protected settle(status: number, body: unknown, text: () => string): GatewayGraphQLResponse {
    if (status === 400) return badUserInputFrom(body, this.name);
    if (status < 200 || status > 299) throw this.statusFailure(status, body, text());
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw this.failure('INTERNAL_SERVER_ERROR', `The ${this.name} subgraph answered something other than GraphQL.`, { status, body: truncate(text(), 1000) });
    }
    return body as GatewayGraphQLResponse;
  }

  private statusFailure(status: number, body: unknown, text: string): GraphQLError {
    const details = { status, body: truncate(text, 1000) };
    // 401/403: the subgraph refused the gateway's signature (secrets out of step, clocks apart).
    if (status === 401 || status === 403) {
      const first = graphqlErrorsOf(body)?.[0]?.message;
      const reason = typeof first === 'string' ? `: ${first}` : '.';
      return this.failure(status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', `The ${this.name} subgraph refused the gateway's call${reason}`, details);
    }
    if (status === 413) return this.failure('BAD_USER_INPUT', `The request is too large for the ${this.name} subgraph.`, details);
    const unavailable = status === 502 || status === 503 || status === 504;
    return this.failure(
      unavailable ? 'UNAVAILABLE' : 'INTERNAL_SERVER_ERROR',
      unavailable ? `The ${this.name} subgraph is unavailable (HTTP ${status}): try again shortly.` : `The ${this.name} subgraph failed (HTTP ${status}).`,
      details,
    );
  }
}

/** Attempts at a call the subgraph refused without running it. */
const MAX_ATTEMPTS = 3;

/** Connection failures before the request left: the subgraph cannot have run it. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

/** The query planner writes a subgraph's mutation fetch as `mutation ...`; entity fetches are queries. */
function isMutation(query: string | undefined): boolean {
  return query !== undefined && /^\s*mutation\b/.test(query);
}

/** A drain's refusal (503 with UNAVAILABLE): the subgraph promises the request did not run. */
function refusedUnexecuted(body: unknown): boolean {
  const errors = typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  return Array.isArray(errors) && errors.some((e: { extensions?: { code?: unknown } } | null) => e?.extensions?.code === 'UNAVAILABLE');
}
