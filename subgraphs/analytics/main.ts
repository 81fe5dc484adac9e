// Runs the analytics subgraph alone (docker-compose): `node dist/subgraphs/analytics/main.js`.
import 'reflect-metadata';
import { createBackends } from '../../messaging/backends';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';
import { analyticsSubgraph } from './subgraph';

runUntilSignal('analytics-subgraph', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const server = await startSubgraph(analyticsSubgraph, backends, cfg);
  loggerFor('analytics-subgraph').info({ url: server.url, ...backends.description }, 'analytics subgraph ready');
  return {
    close: async () => {
      await server.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
