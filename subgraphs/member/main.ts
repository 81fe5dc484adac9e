// Runs the member subgraph alone (docker-compose): `node dist/subgraphs/member/main.js`.
import 'reflect-metadata';
import { createBackends } from '../../messaging/backends';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';
import { memberSubgraph } from './subgraph';

runUntilSignal('member-subgraph', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const server = await startSubgraph(memberSubgraph, backends, cfg);
  loggerFor('member-subgraph').info({ url: server.url, ...backends.description }, 'member subgraph ready');
  return {
    close: async () => {
      await server.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
