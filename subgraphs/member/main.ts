// Runs the member subgraph alone (docker-compose): `node dist/subgraphs/member/main.js`.
import 'reflect-metadata';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';

runUntilSignal('member-subgraph', async () => {
  const server = await startSubgraph('member');
  loggerFor('member-subgraph').info({ url: server.url }, 'member subgraph ready');
  return server;
}, () => config().SHUTDOWN_TIMEOUT_MS);
