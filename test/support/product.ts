// Starts the whole product in the test process on free ports: backends (in memory unless given),
// the four subgraphs, the workers (outbox relay, consumers) and the gateway.
import { mintClientToken, type Role } from '../../platform/auth';
import { loadConfig, type Config } from '../../platform/config';
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { startSubgraph, type StartedSubgraph } from '../../subgraphs/common/start-subgraph';
import { subgraphList } from '../../subgraphs';
import { startWorkers, type RunningWorkers } from '../../subgraphs/workers';
import type { Mailer } from '../../subgraphs/member/consumers/mailer';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/gateway-server';

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export interface RunningProduct {
  readonly config: Config;
  readonly backends: Backends;
  readonly gateway: RunningGateway;
  readonly subgraphs: Readonly<Record<string, StartedSubgraph>>;
  readonly workers: RunningWorkers;
  token(sub: string, role?: Role, expiresInSeconds?: number): string;
  /** POST a GraphQL request to the gateway. */
  graphql(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface ProductOptions {
  /** Environment for loadConfig (NODE_ENV defaults to test). */
  readonly env?: Record<string, string>;
  readonly gateway?: Partial<GatewayOptions>;
  /** Backends to run on; in-memory ones (closed with the product) when absent. */
  readonly backends?: Backends;
  /** Replaces the email consumer's mailer (to hold or inspect deliveries). */
  readonly mailer?: Mailer;
  /** The gateway calls the subgraphs in process, as `npm start` does (default: over HTTP). */
  readonly inProcessSubgraphs?: boolean;
}

export async function startProduct(options: ProductOptions = {}): Promise<RunningProduct> {
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', FOLLOWER_POLL_MS: '20', ...options.env });
  const ownBackends = !options.backends;
  const backends = options.backends ?? (await createMemoryBackends());
  const subgraphs: Record<string, StartedSubgraph> = {};
  for (const definition of subgraphList) {
    subgraphs[definition.name] = await startSubgraph(definition, backends, config, { port: 0, host: '127.0.0.1' });
  }
  const workers = await startWorkers(backends, config, options.mailer ? { member: { mailer: options.mailer } } : {});
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, s]) => [name, s.url])),
    jwtSecret: config.JWT_SECRET,
    jwtMaxLifetimeSeconds: config.JWT_MAX_LIFETIME_SECONDS,
    subgraphSecret: config.SUBGRAPH_SECRET,
    sandbox: config.SANDBOX,
    console: config.CONSOLE_ENABLED,
    introspection: config.INTROSPECTION,
    production: config.NODE_ENV === 'production',
    corsOrigins: config.CORS_ORIGINS,
    ...(options.inProcessSubgraphs ? { inProcessSubgraphs: subgraphs } : {}),
    ...options.gateway,
  });
  return {
    config,
    backends,
    gateway,
    subgraphs,
    workers,
    token: (sub, role = 'member', expiresInSeconds = 3600) =>
      mintClientToken({ sub, role }, config.JWT_SECRET, { expiresInSeconds }),
    graphql: async (query, requestOptions = {}) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
          ...requestOptions.headers,
        },
        body: JSON.stringify({ query, variables: requestOptions.variables ?? {} }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
    close: async () => {
      await gateway.close();
      await workers.close();
      await Promise.all(Object.values(subgraphs).map((s) => s.close()));
      if (ownBackends) await backends.close();
    },
  };
}
