// Runs the analytics subgraph alone (docker-compose): `node dist/subgraphs/analytics/main.js`.
import 'reflect-metadata';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';

runUntilSignal('analytics-subgraph', async () => {
  const server = await startSubgraph('analytics');
  loggerFor('analytics-subgraph').info({ url: server.url }, 'analytics subgraph ready');
  return server;
}, () => config().SHUTDOWN_TIMEOUT_MS);
