// Runs the certification subgraph alone (docker-compose): `node dist/subgraphs/certification/main.js`.
import 'reflect-metadata';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';

runUntilSignal('certification-subgraph', async () => {
  const server = await startSubgraph('certification');
  loggerFor('certification-subgraph').info({ url: server.url }, 'certification subgraph ready');
  return server;
}, () => config().SHUTDOWN_TIMEOUT_MS);
