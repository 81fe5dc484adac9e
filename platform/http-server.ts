// The HTTP side of every process: a few fixed paths on Node's own http server, and Apollo Server
// on one of them. Apollo Server documents `executeHTTPGraphQLRequest` for exactly this (it is what
// its integrations and its standalone server call); the JSON body is read by platform/http-body.ts
// (body-parser for all but plain JSON bodies). Express, which sat here before, cost about as much
// CPU per GraphQL request as all the rest of the request's handling (machine B, a trivial mutation:
// 480 µs of server CPU through expressMiddleware, 230 µs through this), and these servers use none
// of what it adds.
import http from 'node:http';
import accepts from 'accepts';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { readinessReport, type BackendHealth, type ReadinessReport } from './health';
import type { Logger } from './logger';
import { HttpDrain, type HttpDrainOptions } from './http-drain';
import { jsonBodyReader } from './http-body';
import { contextFrom, recordError, SpanKind, startSpan, tracingEnabled, withSpan } from './tracing';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface Route {
  /** Methods answered (HEAD goes with GET); null: any (the handler decides, as Apollo does). */
  readonly methods: readonly string[] | null;
  readonly handle: RequestHandler;
}

/** A request URL's path and query string (`?` included, '' when none). */
function splitUrl(url: string | undefined): { path: string; search: string } {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? { path: raw, search: '' } : { path: raw.slice(0, query), search: raw.slice(query) };
}

/** The path of a request, without its query string or a trailing slash. */
export function pathOf(url: string | undefined): string {
  const { path } = splitUrl(url);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Whether the client takes HTML (a browser), by its Accept header. */
export function acceptsHtml(req: http.IncomingMessage): boolean {
  return accepts(req).type('html') === 'html';
}

/** A GraphQL-shaped error answer (every error here carries `extensions.code`). */
export function sendGraphQLError(res: http.ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** An HTTP server that closes without leaving a request executed and unanswered (platform/http-drain.ts). */
export interface RoutedServer extends http.Server {
  /**
   * Graceful close: new connections refused, requests arriving on open ones answered 503
   * UNAVAILABLE unexecuted, requests in flight finished; resolves once every connection is closed.
   */
  drain(): Promise<void>;
}

/**
 * An HTTP server answering `routes` by path (`/x/*` for every path below `/x`): 404 for another path, 405 (with Allow) for another
 * method, 500 if a handler fails before answering (logged); 503 once it drains.
 */
export function routedServer(
  routes: Readonly<Record<string, Route>>,
  logger: Logger,
  drainOptions: HttpDrainOptions = {},
  /** Runs before routing (CORS); true when it answered the request itself. */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): RoutedServer {
  // Assigned right below, before the server can take a request.
  let drainer!: HttpDrain;
  const server = http.createServer((req, res) => {
    if (drainer.refuse(req, res)) return;
    if (intercept?.(req, res)) return;
    const path = pathOf(req.url);
    // A route named `/<segment>/*` answers every path below `/<segment>` (the console's files).
    const route = routes[path] ?? routes[`/${path.split('/')[1] ?? ''}/*`];
    if (!route) {
      sendJson(res, 404, { message: `Nothing at ${path}.` });
      return;
    }
    const method = req.method ?? 'GET';
    if (route.methods && !route.methods.includes(method) && !(method === 'HEAD' && route.methods.includes('GET'))) {
      sendJson(res, 405, { message: `${path} answers ${route.methods.join(', ')}, not ${method}.` }, { allow: route.methods.join(', ') });
      return;
    }
    let handled: unknown;
    try {
      handled = route.handle(req, res);
    } catch (error) {
      failed(error);
      return;
    }
    if (handled instanceof Promise) handled.catch(failed);

    function failed(error: unknown): void {
      logger.error({ err: error, path, method }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error.' });
      else res.destroy(error instanceof Error ? error : undefined);
    }
  });
  drainer = new HttpDrain(server, drainOptions);
  return Object.assign(server, { drain: () => drainer.drain() });
}

export interface GraphQLRouteOptions<TContext extends BaseContext> {
  /** The request's context; what it throws is answered as Apollo answers a failing context function. */
  readonly context: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<TContext>;
  /** Largest JSON body taken, in bytes. */
  readonly maxBody: number;
  /**
   * The service a request's server span is named after (`gateway`, `payment`); the span continues
   * the caller's `traceparent`, and useTracing (platform/tracing-plugin.ts) names it after the operation.
   */
  readonly traceAs?: string;
}

/** Apollo Server (started) at a route: GET and POST as Apollo answers them, any other method refused by Apollo. */
export function graphqlRoute<TContext extends BaseContext>(server: ApolloServer<TContext>, options: GraphQLRouteOptions<TContext>): Route {
  server.assertStarted('graphqlRoute()');
  const readJson = jsonBodyReader(options.maxBody);
  const traced = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!tracingEnabled() || !options.traceAs) return handle(req, res);
    const span = startSpan(`${options.traceAs} ${req.method ?? 'GET'} /graphql`, {
      kind: SpanKind.SERVER,
      parent: contextFrom(req.headers),
      attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': pathOf(req.url), 'membership.service': options.traceAs },
    });
    try {
      await withSpan(span, () => handle(req, res));
      span?.setAttribute('http.response.status_code', res.statusCode);
    } catch (error) {
      if (span) recordError(span, error);
      throw error;
    } finally {
      span?.end();
    }
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const parsed = await readJson(req, res);
    if (parsed) {
      // Malformed JSON (400), too large (413), an unsupported charset (415): said in GraphQL's shape.
      const status = parsed.status ?? 400;
      sendGraphQLError(res, status, status === 413 ? `The request body is larger than ${options.maxBody} bytes.` : parsed.message, 'BAD_REQUEST');
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: (req.method ?? 'GET').toUpperCase(),
        headers,
        search: splitUrl(req.url).search,
        body: (req as { body?: unknown }).body,
      },
      context: () => options.context(req, res),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
  return { methods: null, handle: traced };
}

/** A /ready answer: 200 when ready, 503 otherwise; never cached (a cached 200 would hide an outage). */
export function sendReadiness(res: http.ServerResponse, report: ReadinessReport, extra: Record<string, unknown> = {}): void {
  sendJson(res, report.status === 'ready' ? 200 : 503, { ...report, ...extra }, { 'cache-control': 'no-store' });
}

/** GET /ready for a process whose readiness is its backends' (subgraphs, the worker). */
export function readyRoute(check: () => Promise<readonly BackendHealth[]>, extra: Record<string, unknown> = {}): Route {
  return {
    methods: ['GET'],
    handle: async (_req, res) => sendReadiness(res, readinessReport(await check()), extra),
  };
}
