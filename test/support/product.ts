// Starts the whole product in the test process on free ports: the four subgraphs, then the gateway.
import { mintClientToken, type Role } from '../../platform/auth';
import { loadConfig, type Config } from '../../platform/config';
import { startSubgraphServer, type RunningServer } from '../../subgraphs/common/subgraph-server';
import { subgraphEntries } from '../../subgraphs';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/gateway-server';

export interface RunningProduct {
  readonly config: Config;
  readonly gateway: RunningGateway;
  readonly subgraphs: Readonly<Record<string, RunningServer>>;
  token(sub: string, role?: Role, expiresInSeconds?: number): string;
  /** POST a GraphQL request to the gateway. */
  graphql(query: string, options?: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> }): Promise<{
    status: number;
    headers: Headers;
    body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  }>;
  close(): Promise<void>;
}

export async function startProduct(
  env: Record<string, string> = {},
  gatewayOverrides: Partial<GatewayOptions> = {},
): Promise<RunningProduct> {
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', ...env });
  const subgraphs: Record<string, RunningServer> = {};
  for (const entry of subgraphEntries) {
    subgraphs[entry.name] = await startSubgraphServer({
      name: entry.name,
      schema: await entry.buildSchema(),
      host: '127.0.0.1',
      port: 0,
      subgraphSecret: config.SUBGRAPH_SECRET,
      introspection: config.INTROSPECTION,
    });
  }
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, s]) => [name, s.url])),
    jwtSecret: config.JWT_SECRET,
    subgraphSecret: config.SUBGRAPH_SECRET,
    sandbox: config.SANDBOX,
    introspection: config.INTROSPECTION,
    production: config.NODE_ENV === 'production',
    ...gatewayOverrides,
  });
  return {
    config,
    gateway,
    subgraphs,
    token: (sub, role = 'member', expiresInSeconds = 3600) =>
      mintClientToken({ sub, role }, config.JWT_SECRET, { expiresInSeconds }),
    graphql: async (query, options = {}) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables: options.variables ?? {} }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
    close: async () => {
      await gateway.close();
      await Promise.all(Object.values(subgraphs).map((s) => s.close()));
    },
  };
}
