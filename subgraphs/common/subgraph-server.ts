// Serves one subgraph over HTTP: /health, and /graphql for the gateway only (a request without a
// valid gateway signature is refused before any GraphQL runs). Graceful close drains requests.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { GraphQLSchema } from 'graphql';
import { GATEWAY_IDENTITY_HEADER, verifyForwardedIdentity, type ForwardedRequest } from '../../platform/auth';
import { isDomainError } from '../../platform/errors';
import { apolloLogger, loggerFor } from '../../platform/logger';
import { metricsRegistry } from '../../messaging/monitor/metrics';
import type { SubgraphContext } from './context';
import { formatErrorWith } from './format-error';
import { startSubgraphSubscriptions, type SubgraphSubscriptionsConfig } from './subscription-server';
import { listen } from '../../platform/http-listen';

export type SubgraphName = 'member' | 'payment' | 'certification' | 'analytics';

export interface SubgraphServerOptions {
  readonly name: SubgraphName;
  readonly schema: GraphQLSchema;
  readonly host: string;
  readonly port: number;
  readonly subgraphSecret: string;
  readonly introspection: boolean;
  /** Feeds subscriptions (graphql-ws on /graphql, gateway only); absent: subscribing answers UNAVAILABLE. */
  readonly subscriptions?: SubgraphSubscriptionsConfig;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSubgraphServer(options: SubgraphServerOptions): Promise<RunningServer> {
  const logger = loggerFor(`${options.name}-subgraph`);
  const app = express();
  // No ETag on GraphQL answers: each is hashed for nothing (a POST answer is never revalidated).
  app.set('etag', false);
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<SubgraphContext>({
    schema: options.schema,
    introspection: options.introspection,
    formatError: formatErrorWith(logger),
    includeStacktraceInErrorResponses: false,
    // The process lifecycle (platform/lifecycle.ts) owns signals and closes servers in order.
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', subgraph: options.name });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  const forwarded = new WeakMap<express.Request, ForwardedRequest>();
  app.use('/graphql', (req, res, next) => {
    const header = req.header(GATEWAY_IDENTITY_HEADER);
    if (!header) {
      res.status(401).json({
        errors: [
          {
            message: `The ${options.name} subgraph only answers the gateway: call the gateway's /graphql instead.`,
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ],
      });
      return;
    }
    try {
      forwarded.set(req, verifyForwardedIdentity(header, options.subgraphSecret));
      next();
    } catch (error) {
      res.status(403).json({
        errors: [{ message: isDomainError(error) ? error.message : 'Forbidden.', extensions: { code: 'FORBIDDEN' } }],
      });
    }
  });

  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const request = forwarded.get(req) ?? { identity: null, correlationId: randomUUID() };
        return {
          identity: request.identity,
          correlationId: request.correlationId,
          logger: logger.child({ correlationId: request.correlationId }),
        };
      },
    }),
  );

  const subscriptions = await startSubgraphSubscriptions({
    name: options.name,
    httpServer,
    schema: options.schema,
    subgraphSecret: options.subgraphSecret,
    logger,
    config: options.subscriptions,
  });

  const { port, origin } = await listen(httpServer, options.port, options.host);
  return {
    url: `${origin}/graphql`,
    port,
    close: async () => {
      // WebSockets first: open sockets would otherwise hold the HTTP drain.
      await subscriptions.close();
      await apollo.stop();
    },
  };
}
