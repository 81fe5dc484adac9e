// Runs the certification subgraph alone (docker-compose): `node dist/subgraphs/certification/main.js`.
import 'reflect-metadata';
import { createBackends } from '../../messaging/backends';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';
import { certificationSubgraph } from './subgraph';

runUntilSignal('certification-subgraph', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const server = await startSubgraph(certificationSubgraph, backends, cfg);
  loggerFor('certification-subgraph').info({ url: server.url, ...backends.description }, 'certification subgraph ready');
  return {
    close: async () => {
      await server.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
