// Starts the gateway from the configuration.
import { config, subgraphNames, subgraphUrlVariable, type Config } from '../platform/config';
import { startGateway, type RunningGateway } from './gateway-server';
import type { InProcessSubgraph } from './in-process-data-source';

export function subgraphUrlsFrom(cfg: Config): Record<string, string> {
  return Object.fromEntries(subgraphNames.map((name) => [name, cfg[subgraphUrlVariable(name)]]));
}

/** `inProcess`: the subgraphs this process serves (`npm start`), called in process when IN_PROCESS_SUBGRAPHS is on. */
export function startConfiguredGateway(cfg: Config = config(), inProcess: Readonly<Record<string, InProcessSubgraph>> = {}): Promise<RunningGateway> {
  return startGateway({
    host: cfg.HOST,
    port: cfg.PORT,
    subgraphUrls: subgraphUrlsFrom(cfg),
    ...(cfg.IN_PROCESS_SUBGRAPHS ? { inProcessSubgraphs: inProcess } : {}),
    jwtSecret: cfg.JWT_SECRET,
    jwtMaxLifetimeSeconds: cfg.JWT_MAX_LIFETIME_SECONDS,
    subgraphSecret: cfg.SUBGRAPH_SECRET,
    sandbox: cfg.SANDBOX,
    console: cfg.CONSOLE_ENABLED,
    introspection: cfg.INTROSPECTION,
    production: cfg.NODE_ENV === 'production',
    corsOrigins: cfg.CORS_ORIGINS,
    queryLimits: {
      maxTokens: cfg.QUERY_MAX_TOKENS,
      maxDepth: cfg.QUERY_MAX_DEPTH,
      maxAliases: cfg.QUERY_MAX_ALIASES,
      maxDirectives: cfg.QUERY_MAX_DIRECTIVES,
    },
    subscriptions: {
      limits: {
        maxConnections: cfg.WS_MAX_CONNECTIONS,
        maxSubscriptionsPerConnection: cfg.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        bufferSize: cfg.SUBSCRIPTION_BUFFER_SIZE,
        connectionInitWaitTimeoutMs: cfg.WS_CONNECTION_INIT_TIMEOUT_MS,
        keepAliveMs: cfg.WS_KEEPALIVE_MS,
        maxPayloadBytes: cfg.WS_MAX_PAYLOAD_BYTES,
      },
    },
  });
}
