// Runs the payment subgraph alone (docker-compose): `node dist/subgraphs/payment/main.js`.
import 'reflect-metadata';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';

runUntilSignal('payment-subgraph', async () => {
  const server = await startSubgraph('payment');
  loggerFor('payment-subgraph').info({ url: server.url }, 'payment subgraph ready');
  return server;
}, () => config().SHUTDOWN_TIMEOUT_MS);
