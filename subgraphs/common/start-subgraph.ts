// Starts one subgraph from the configuration: assembles its module on the process's backends,
// serves it, then starts its background work (used by each subgraph's main and by `npm start`).
import type { Backends } from '../../messaging/backends';
import { subgraphPortVariable, type Config } from '../../platform/config';
import type { AnySubgraphDefinition } from './subgraph-definition';
import type { SubgraphModule } from './subgraph-module';
import { startSubgraphServer, type RunningServer } from './subgraph-server';

export interface StartedSubgraph extends RunningServer {
  readonly module: SubgraphModule;
}

export async function startSubgraph(
  definition: AnySubgraphDefinition,
  backends: Backends,
  cfg: Config,
  overrides: { port?: number; host?: string } = {},
): Promise<StartedSubgraph> {
  const { name } = definition;
  const module = await definition.createModule(backends, cfg);
  await module.start();
  const server = await startSubgraphServer({
    name,
    schema: module.schema,
    host: overrides.host ?? cfg.HOST,
    port: overrides.port ?? cfg[subgraphPortVariable(name)],
    subgraphSecret: cfg.SUBGRAPH_SECRET,
    introspection: cfg.INTROSPECTION,
    production: cfg.NODE_ENV === 'production',
    backendHealth: () => backends.health(),
    subscriptions: {
      bus: backends.bus,
      store: backends.store,
      eventTypes: definition.subscriptionEventTypes,
      onDemandEventTypes: definition.onDemandSubscriptionEventTypes ?? [],
      bufferSize: cfg.SUBSCRIPTION_BUFFER_SIZE,
      connectionInitWaitTimeoutMs: cfg.WS_CONNECTION_INIT_TIMEOUT_MS,
      keepAliveMs: cfg.WS_KEEPALIVE_MS,
      maxPayloadBytes: cfg.WS_MAX_PAYLOAD_BYTES,
    },
  });
  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    port: server.port,
    execute: server.execute,
    module,
    // Idempotent: tests and shutdown paths may close a subgraph that is already closed.
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await module.close();
      })()),
  };
}
