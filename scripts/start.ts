// `npm start`: the whole product in one process — four subgraphs on their ports, then the
// gateway — on embedded defaults unless MONGODB_URI / RABBITMQ_URL say otherwise.
import 'reflect-metadata';
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { startSubgraph } from '../subgraphs/common/start-subgraph';
import type { RunningServer } from '../subgraphs/common/subgraph-server';
import { subgraphEntries } from '../subgraphs';
import { startConfiguredGateway } from '../gateway/start-gateway';

runUntilSignal('membership', async () => {
  const cfg = config();
  const subgraphs: { name: string; server: RunningServer }[] = [];
  for (const entry of subgraphEntries) subgraphs.push({ name: entry.name, server: await startSubgraph(entry.name, cfg) });
  const gateway = await startConfiguredGateway(cfg);

  const origin = new URL(gateway.url).origin;
  const lines = [
    '',
    'Membership API is running.',
    `  Gateway (GraphQL over HTTP and WebSocket): ${gateway.url}`,
    cfg.SANDBOX ? `  Apollo Sandbox:  ${origin}/` : '  Apollo Sandbox:  off (SANDBOX=false)',
    `  Health / ready:  ${origin}/health  ${origin}/ready`,
    ...subgraphs.map((s) => `  Subgraph ${s.name.padEnd(13)} ${s.server.url}`),
    `  Event store:     ${cfg.MONGODB_URI ? `MongoDB (${new URL(cfg.MONGODB_URI).host})` : `embedded, file-backed (${cfg.DATA_DIR})`}`,
    `  Event bus:       ${cfg.RABBITMQ_URL ? `RabbitMQ (${new URL(cfg.RABBITMQ_URL).host})` : 'in-process'}`,
    ...(cfg.usingDevelopmentSecrets
      ? ['', '  WARNING: using DEVELOPMENT secrets (JWT_SECRET / SUBGRAPH_SECRET unset). Never expose this instance.']
      : []),
    '  Mint a token: npm run token -- --sub m1 --role member',
    '',
  ];
  console.log(lines.join('\n'));

  return {
    close: async () => {
      await gateway.close();
      await Promise.all(subgraphs.map((s) => s.server.close()));
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
