// `npm start`: the whole product in one process — the four subgraphs on their ports, the workers
// (outbox relay, consumers) and the gateway — on embedded defaults unless MONGODB_URI /
// RABBITMQ_URL say otherwise.
import 'reflect-metadata';
import { createBackends } from '../messaging/backends';
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { startSubgraph, type StartedSubgraph } from '../subgraphs/common/start-subgraph';
import { subgraphList } from '../subgraphs';
import { startWorkers } from '../subgraphs/workers';
import { startConfiguredGateway } from '../gateway/start-gateway';

runUntilSignal('membership', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const subgraphs: { name: string; server: StartedSubgraph }[] = [];
  for (const definition of subgraphList) subgraphs.push({ name: definition.name, server: await startSubgraph(definition, backends, cfg) });
  const workers = await startWorkers(backends, cfg);
  // The gateway calls these subgraphs in process (IN_PROCESS_SUBGRAPHS), with the same signed identity.
  const gateway = await startConfiguredGateway(cfg, Object.fromEntries(subgraphs.map((s) => [s.name, s.server])));

  const origin = new URL(gateway.url).origin;
  const lines = [
    '',
    'Membership API is running.',
    `  Gateway (GraphQL over HTTP and WebSocket): ${gateway.url}`,
    cfg.SANDBOX ? `  Apollo Sandbox:  ${origin}/` : '  Apollo Sandbox:  off (SANDBOX=false)',
    cfg.CONSOLE_ENABLED ? `  Console:         ${origin}/console/  (explorer: ${origin}/console/#/explorer)` : '  Console:         off (CONSOLE_ENABLED=false)',
    `  Health / ready:  ${origin}/health  ${origin}/ready`,
    ...subgraphs.map((s) => `  Subgraph ${s.name.padEnd(13)} ${s.server.url}`),
    `  Gateway to subgraphs: ${cfg.IN_PROCESS_SUBGRAPHS ? 'in process (IN_PROCESS_SUBGRAPHS=true)' : 'HTTP (IN_PROCESS_SUBGRAPHS=false)'}`,
    `  Event store:     ${backends.description.eventStore}`,
    `  Event bus:       ${backends.description.eventBus}`,
    ...(cfg.usingDevelopmentSecrets
      ? ['', '  WARNING: using DEVELOPMENT secrets (JWT_SECRET / SUBGRAPH_SECRET unset). Never expose this instance.']
      : []),
    '  Mint a token: npm run token -- --sub m1 --role member (or --role admin for every console page)',
    '',
  ];
  console.log(lines.join('\n'));

  return {
    close: async () => {
      await gateway.close();
      await workers.close();
      await Promise.all(subgraphs.map((s) => s.server.close()));
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
