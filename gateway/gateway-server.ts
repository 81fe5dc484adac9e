// The gateway: @apollo/gateway executing the committed supergraph inside @apollo/server, at
// /graphql, with Sandbox (development), the web console at /console, /health, /ready and a
// draining shutdown.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { CORRELATION_ID_HEADER, correlationIdFrom } from '../platform/auth';
import { apolloLogger, loggerFor, type Logger } from '../platform/logger';
import type { ClientErrorOptions } from '../platform/client-errors';
import { metricsRoute } from '../messaging/monitor/metrics';
import { useClientErrors } from './client-errors';
import { authenticate, type GatewayContext } from './context';
import { IDEMPOTENCY_KEY_HEADER, idempotencyHeaderOf } from '../platform/idempotency-key';
import { gatewayErrorFormatter } from './format-error';
import { SignedSubgraphDataSource } from './subgraph-data-source';
import { InProcessSubgraphDataSource, type InProcessSubgraph } from './in-process-data-source';
import { serveGatewaySubscriptions, type GatewaySubscriptionOptions, type GatewaySubscriptionServer } from './subscriptions/subscription-server';
import { listen } from '../platform/http-listen';
import { applyCors, defaultCorsOrigins, type CorsPolicy } from '../platform/cors';
import { CONSOLE_CSP, consoleRoute, defaultConsoleDir, landingPage as consoleLandingPage } from './console-route';
import { useTracing } from '../platform/tracing-plugin';
import { acceptsHtml, graphqlRoute, routedServer, sendJson, type Route } from '../platform/http-server';
import { defaultQueryLimits, limitedParseOptions, queryLimitRules, type QueryLimits } from './query-limits';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  /** Subgraph name (as in the supergraph, lower case) -> URL of its /graphql. */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  readonly jwtSecret: string;
  /** Longest client token lifetime accepted (DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS when absent). */
  readonly jwtMaxLifetimeSeconds?: number;
  readonly subgraphSecret: string;
  /**
   * Subgraphs served in this process (`npm start`): queries and mutations call them in process
   * (gateway/in-process-data-source.ts); the others, and subscriptions, go over HTTP/WebSocket.
   */
  readonly inProcessSubgraphs?: Readonly<Record<string, InProcessSubgraph>>;
  readonly sandbox: boolean;
  /** Serve the web console at /console (from `consoleDir`, default console/dist). */
  readonly console?: boolean;
  readonly consoleDir?: string;
  readonly introspection: boolean;
  readonly production: boolean;
  /** Defaults to the repository's supergraph.graphql. */
  readonly supergraphSdl?: string;
  /** Limits on client operations, over HTTP and WebSocket (defaultQueryLimits when absent). */
  readonly queryLimits?: QueryLimits;
  /** Browser origins allowed (CORS); defaultCorsOrigins(production) when absent. */
  readonly corsOrigins?: readonly string[];
  /** Subscriptions at /graphql (graphql-ws, SSE, multipart): limits, and the clock/timers/observer tests inject. */
  readonly subscriptions?: Pick<GatewaySubscriptionOptions, 'limits' | 'clock' | 'timers' | 'observer'>;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  /** Subscription counts over every transport: connections, client subscriptions, upstream subscriptions on subgraphs. */
  readonly subscriptions: Pick<GatewaySubscriptionServer, 'connectionCount' | 'subscriptionCount' | 'upstreamSubscriptionCount'>;
  close(): Promise<void>;
}

export function defaultSupergraphPath(): string {
  // Works from the sources (gateway/) and from the build output (dist/gateway/).
  const candidates = [path.resolve(__dirname, '..', 'supergraph.graphql'), path.resolve(__dirname, '..', '..', 'supergraph.graphql')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`supergraph.graphql not found (looked in ${candidates.join(', ')}); run \`npm run compose\`.`);
  return found;
}

/**
 * A subgraph is ready when its /ready says so: it answers, and so do the backends it needs. A 503
 * carries the subgraph's reason ("MongoDB: ..."), repeated here so the gateway's /ready names it.
 */
async function subgraphReady(url: string): Promise<{ ok: boolean; detail: string }> {
  const readyUrl = new URL('/ready', url).toString();
  try {
    const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
    if (response.ok) {
      await response.body?.cancel();
      return { ok: true, detail: 'ok' };
    }
    const body = (await response.json().catch(() => null)) as { reason?: unknown } | null;
    return { ok: false, detail: typeof body?.reason === 'string' ? body.reason : `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = loggerFor('gateway');
  // @apollo/gateway otherwise probes cloud metadata addresses and exports usage metrics to
  // Apollo's servers at construction: a self-hosted gateway must not phone home.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const supergraphSdl = options.supergraphSdl ?? fs.readFileSync(defaultSupergraphPath(), 'utf8');
  const gateway = apolloGateway(options, supergraphSdl);

  // The routes are filled in once Apollo has started.
  const routes: Record<string, Route> = {};
  const cors: CorsPolicy = { origins: options.corsOrigins ?? defaultCorsOrigins(options.production) };
  const httpServer = routedServer(routes, logger, {}, (req, res) => applyCors(cors, req, res));
  const queryLimits = options.queryLimits ?? defaultQueryLimits;
  const clientErrors = { hideSuggestions: options.production };
  const apollo = apolloServer(gateway, options, logger, queryLimits, clientErrors);
  await apollo.start();
  Object.assign(routes, plainRoutes(options));

  // Subscriptions on the same server and path: graphql-ws (Sandbox uses it as it is), SSE and multipart.
  const subscriptions = serveGatewaySubscriptions({
    httpServer,
    supergraphSdl,
    subgraphUrls: options.subgraphUrls,
    services: Object.fromEntries(
      Object.entries(options.subgraphUrls).map(([name, url]) => [name, new SignedSubgraphDataSource(url, options.subgraphSecret, name)]),
    ),
    jwtSecret: options.jwtSecret,
    ...(options.jwtMaxLifetimeSeconds ? { jwtMaxLifetimeSeconds: options.jwtMaxLifetimeSeconds } : {}),
    subgraphSecret: options.subgraphSecret,
    logger: logger.child({ part: 'subscriptions' }),
    queryLimits,
    clientErrors,
    ...options.subscriptions,
  });
  const apolloRoute = graphqlRoute(apollo, {
    maxBody: 1024 * 1024,
    traceAs: 'gateway',
    context: async (req, res) => {
      const correlationId = correlationIdFrom(req.headers[CORRELATION_ID_HEADER]);
      res.setHeader(CORRELATION_ID_HEADER, correlationId);
      const idempotencyKey = idempotencyHeaderOf(req.headers[IDEMPOTENCY_KEY_HEADER]);
      return { identity: authenticate(req.headers.authorization, options.jwtSecret, options.jwtMaxLifetimeSeconds), correlationId, idempotencyKey };
    },
  });
  routes['/graphql'] = {
    methods: null,
    handle: (req, res) => (subscriptions.handleHttp(req, res) ? undefined : apolloRoute.handle(req, res)),
  };

  const { port, origin } = await listen(httpServer, options.port, options.host);
  return {
    url: `${origin}/graphql`,
    port,
    subscriptions,
    close: async () => {
      // Subscriptions first (WebSockets closed with ServiceRestart, SSE and multipart ended as
      // interrupted: clients reconnect elsewhere and resume); they would otherwise hold the drain.
      await subscriptions.close();
      // Then HTTP: requests in flight are answered, later ones refused unexecuted (platform/http-drain.ts).
      await httpServer.drain();
      await apollo.stop();
    },
  };
}

/** The federated executor: subgraphs served in this process are called in process, the others over HTTP, signed. */
function apolloGateway(options: GatewayOptions, supergraphSdl: string): ApolloGateway {
  return new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      const local = options.inProcessSubgraphs?.[name];
      if (local) return new InProcessSubgraphDataSource(local, options.subgraphSecret, name);
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`No URL for subgraph "${name}".`);
      return new SignedSubgraphDataSource(target, options.subgraphSecret, name);
    },
  });
}

function apolloServer(
  gateway: ApolloGateway,
  options: GatewayOptions,
  logger: Logger,
  queryLimits: QueryLimits,
  clientErrors: ClientErrorOptions,
): ApolloServer<GatewayContext> {
  // Sandbox is embedded whenever it is on (SANDBOX defaults to off in production).
  const landingPage = options.sandbox
    ? ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false })
    : ApolloServerPluginLandingPageDisabled();
  return new ApolloServer<GatewayContext>({
    gateway,
    introspection: options.introspection,
    formatError: gatewayErrorFormatter(logger, clientErrors),
    parseOptions: limitedParseOptions(queryLimits),
    validationRules: queryLimitRules(queryLimits),
    // Errors leave in one shape on every transport (the WebSocket side shapes them alike).
    plugins: [landingPage, useClientErrors<GatewayContext>(), useTracing<GatewayContext>('gateway')],
    includeStacktraceInErrorResponses: false,
    // Apollo's own two headers, and: a request carrying a token cannot be a simple request (authorization is no CORS-safelisted
    // header, so a browser preflights it): no CSRF risk, and what urql's GET queries send.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // The process lifecycle (platform/lifecycle.ts) owns signals and closes servers in order.
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
  });
}

/** The routes beside /graphql: health, metrics, readiness, the console and the landing page. */
function plainRoutes(options: GatewayOptions): Record<string, Route> {
  const routes: Record<string, Route> = {};
  routes['/health'] = { methods: ['GET'], handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) };
  routes['/metrics'] = metricsRoute;
  routes['/ready'] = { methods: ['GET'], handle: (_req, res) => answerReady(options.subgraphUrls, res) };
  if (options.console) {
    const route = consoleRoute(options.consoleDir ?? defaultConsoleDir());
    routes['/console'] = route;
    routes['/console/*'] = route;
  }
  routes['/'] = {
    methods: ['GET'],
    handle: (req, res) => {
      if ((options.sandbox || options.console) && acceptsHtml(req)) {
        // The landing page: the console's explorer (works offline) and, when on, Sandbox (Apollo's CDN).
        const html = consoleLandingPage({ sandbox: options.sandbox, console: options.console === true });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'content-security-policy': CONSOLE_CSP });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      sendJson(res, 404, { message: 'The GraphQL endpoint is /graphql.' });
    },
  };
  return routes;
}

/** The gateway is ready when every subgraph is; the answer names each one's state. */
async function answerReady(subgraphUrls: Readonly<Record<string, string>>, res: http.ServerResponse): Promise<void> {
  const entries = await Promise.all(Object.entries(subgraphUrls).map(async ([name, url]) => [name, await subgraphReady(url)] as const));
  const ready = entries.every(([, s]) => s.ok);
  const down = entries.filter(([, s]) => !s.ok);
  sendJson(
    res,
    ready ? 200 : 503,
    {
      status: ready ? 'ready' : 'unavailable',
      subgraphs: Object.fromEntries(entries.map(([name, s]) => [name, s.detail])),
      ...(ready ? {} : { reason: down.map(([name, s]) => `${name}: ${s.detail}`).join('; ') }),
    },
    { 'cache-control': 'no-store' },
  );
}
