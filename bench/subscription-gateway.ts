// Child process of the subscription benchmark: our gateway alone in its own process (so its memory
// and CPU are measured apart from the subgraphs and the clients, as Hive's are). Subgraph URLs come
// from BENCH_SUBGRAPH_URLS (JSON), the supergraph file from BENCH_SUPERGRAPH, the port from BENCH_PORT, everything else from the configuration
// (JWT_SECRET, SUBGRAPH_SECRET, WS_MAX_CONNECTIONS, ...). Tells the parent its URL over IPC.
import fs from 'node:fs';
import { loadConfig } from '../platform/config';
import { startGateway } from '../gateway/gateway-server';

export interface GatewayReady {
  readonly type: 'bench:ready';
  readonly url: string;
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  const subgraphUrls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS ?? '{}') as Record<string, string>;
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: Number(process.env.BENCH_PORT ?? 0),
    subgraphUrls,
    ...(process.env.BENCH_SUPERGRAPH ? { supergraphSdl: fs.readFileSync(process.env.BENCH_SUPERGRAPH, 'utf8') } : {}),
    jwtSecret: cfg.JWT_SECRET,
    subgraphSecret: cfg.SUBGRAPH_SECRET,
    sandbox: false,
    introspection: false,
    production: true,
    subscriptions: {
      limits: {
        maxConnections: cfg.WS_MAX_CONNECTIONS,
        maxSubscriptionsPerConnection: cfg.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        bufferSize: cfg.SUBSCRIPTION_BUFFER_SIZE,
        connectionInitWaitTimeoutMs: cfg.WS_CONNECTION_INIT_TIMEOUT_MS,
        keepAliveMs: cfg.WS_KEEPALIVE_MS,
      },
    },
  });
  const ready: GatewayReady = { type: 'bench:ready', url: gateway.url };
  process.send?.(ready);
  const stop = () => {
    void gateway.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
