// Serves one subgraph over HTTP: /health (alive), /ready (its backends answer: 503 naming the one
// that does not), and /graphql for the gateway only (a request without a valid gateway signature is
// refused before any GraphQL runs). Graceful close drains requests.
import { useTracing } from '../../platform/tracing-plugin';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, correlationIdFrom, verifyForwardedIdentity, type Identity } from '../../platform/auth';
import { isDomainError } from '../../platform/errors';
import { apolloLogger, loggerFor, type Logger } from '../../platform/logger';
import { metricsRoute } from '../../messaging/monitor/metrics';
import type { SubgraphContext } from './context';
import type { InProcessCall } from '../../gateway/in-process-data-source';
import { IDEMPOTENCY_KEY_HEADER, idempotencyHeaderOf } from '../../platform/idempotency-key';
import { formatErrorWith } from './format-error';
import { startSubgraphSubscriptions, type SubgraphSubscriptionsConfig } from './subscription-server';
import { listen } from '../../platform/http-listen';
import type { SubgraphName } from '../../platform/config';
import type { BackendHealth } from '../../platform/health';
import { graphqlRoute, readyRoute, routedServer, sendGraphQLError, sendJson, type Route } from '../../platform/http-server';

export type { SubgraphName };

export interface SubgraphServerOptions {
  readonly name: SubgraphName;
  readonly schema: GraphQLSchema;
  readonly host: string;
  readonly port: number;
  readonly subgraphSecret: string;
  readonly introspection: boolean;
  /** Production: errors carry no schema suggestions ("Did you mean ..."). */
  readonly production?: boolean;
  /** Feeds subscriptions (graphql-ws on /graphql, gateway only); absent: subscribing answers UNAVAILABLE. */
  readonly subscriptions?: SubgraphSubscriptionsConfig;
  /** The backends' state for /ready (Backends.health); absent: ready whenever it answers. */
  readonly backendHealth?: () => Promise<readonly BackendHealth[]>;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /**
   * A gateway call from this process (gateway/in-process-data-source.ts): the signature is checked
   * as /graphql checks the header, then the operation runs through the same Apollo pipeline; the
   * answer is the status and body /graphql would send, unserialised.
   */
  execute(call: InProcessCall): Promise<{ readonly status: number; readonly body: unknown }>;
  close(): Promise<void>;
}

/**
 * A request's context. Its logger (a child naming the correlation id) is made when first used: most
 * requests log nothing, and pino's child cost about 1 % of a subgraph's CPU per query. The getter is
 * on the prototype, so Apollo Server's copy of the context (Object.assign onto the same prototype)
 * keeps it lazy.
 */
class RequestContext implements SubgraphContext {
  private requestLogger: Logger | undefined;

  constructor(
    readonly identity: Identity | null,
    readonly correlationId: string,
    readonly idempotencyKey: string | null,
    private readonly parentLogger: Logger,
  ) {}

  get logger(): Logger {
    return (this.requestLogger ??= this.parentLogger.child({ correlationId: this.correlationId }));
  }
}

export async function startSubgraphServer(options: SubgraphServerOptions): Promise<RunningServer> {
  const logger = loggerFor(`${options.name}-subgraph`);
  // The routes are filled in once Apollo has started.
  const routes: Record<string, Route> = {};
  const httpServer = routedServer(routes, logger);
  const clientErrors = { hideSuggestions: options.production ?? false };
  const apollo = new ApolloServer<SubgraphContext>({
    schema: options.schema,
    introspection: options.introspection,
    formatError: formatErrorWith(logger, clientErrors),
    includeStacktraceInErrorResponses: false,
    // Only the gateway is answered (its signature is checked before Apollo runs), and no browser can
    // send that header without a preflight: Apollo's CSRF check (a MIME parse per request) guards nothing here.
    csrfPrevention: false,
    // The process lifecycle (platform/lifecycle.ts) owns signals and closes servers in order.
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
    // No cache control: the subgraphs declare no cache hints and the gateway reads none
    // (gateway/subgraph-data-source.ts), and its default plugin wraps every field's resolver to
    // look for them (a few per cent of a subgraph's CPU on list queries).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), useTracing<SubgraphContext>(options.name, { rootFields: true })],
  });
  await apollo.start();

  routes['/health'] = { methods: ['GET'], handle: (_req, res) => sendJson(res, 200, { status: 'ok', subgraph: options.name }) };
  routes['/ready'] = readyRoute(options.backendHealth ?? (async () => []), { subgraph: options.name });
  routes['/metrics'] = metricsRoute;

  const requestContext = (identity: Identity | null, correlationId: string, idempotencyKey: string | null): SubgraphContext =>
    new RequestContext(identity, correlationId, idempotencyKey, logger);

  // The gateway's signed identity, checked before any GraphQL runs, for the request's context.
  const forwarded = new WeakMap<http.IncomingMessage, Identity | null>();
  const graphql = graphqlRoute(apollo, {
    maxBody: 1024 * 1024,
    traceAs: options.name,
    context: async (req) => {
      const correlationId = correlationIdFrom(req.headers[CORRELATION_ID_HEADER]);
      const idempotencyKey = idempotencyHeaderOf(req.headers[IDEMPOTENCY_KEY_HEADER]);
      return requestContext(forwarded.get(req) ?? null, correlationId, idempotencyKey);
    },
  });
  routes['/graphql'] = {
    methods: null,
    handle: (req, res) => {
      const header = req.headers[GATEWAY_IDENTITY_HEADER];
      if (typeof header !== 'string' || header === '') {
        sendGraphQLError(res, 401, `The ${options.name} subgraph only answers the gateway: call the gateway's /graphql instead.`, 'UNAUTHENTICATED');
        return;
      }
      try {
        forwarded.set(req, verifyForwardedIdentity(header, options.subgraphSecret));
      } catch (error) {
        sendGraphQLError(res, 403, isDomainError(error) ? error.message : 'Forbidden.', 'FORBIDDEN');
        return;
      }
      return graphql.handle(req, res);
    },
  };

  const subscriptions = await startSubgraphSubscriptions({
    name: options.name,
    httpServer,
    schema: options.schema,
    subgraphSecret: options.subgraphSecret,
    logger,
    clientErrors,
    config: options.subscriptions,
  });

  const execute = async (call: InProcessCall) => {
    let identity: Identity | null;
    try {
      identity = verifyForwardedIdentity(call.identitySignature, options.subgraphSecret);
    } catch (error) {
      return { status: 403, body: { errors: [{ message: isDomainError(error) ? error.message : 'Forbidden.', extensions: { code: 'FORBIDDEN' } }] } };
    }
    const correlationId = correlationIdFrom(call.correlationId);
    const idempotencyKey = idempotencyHeaderOf(call.idempotencyKey ?? undefined);
    const response = await apollo.executeOperation(call.request, {
      contextValue: requestContext(identity, correlationId, idempotencyKey),
    });
    if (response.body.kind !== 'single') throw new Error(`The ${options.name} subgraph answered an incremental result in process.`);
    return { status: response.http.status ?? 200, body: response.body.singleResult };
  };

  const { port, origin } = await listen(httpServer, options.port, options.host);
  return {
    url: `${origin}/graphql`,
    port,
    execute,
    close: async () => {
      // WebSockets first: open sockets would otherwise hold the HTTP drain.
      await subscriptions.close();
      // Then HTTP: requests in flight are answered, later ones refused unexecuted (platform/http-drain.ts),
      // which the gateway may safely send again.
      await httpServer.drain();
      await apollo.stop();
    },
  };
}
