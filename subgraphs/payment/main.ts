// Runs the payment subgraph alone (docker-compose): `node dist/subgraphs/payment/main.js`.
import 'reflect-metadata';
import { createBackends } from '../../messaging/backends';
import { config } from '../../platform/config';
import { runUntilSignal } from '../../platform/lifecycle';
import { loggerFor } from '../../platform/logger';
import { startSubgraph } from '../common/start-subgraph';
import { paymentSubgraph } from './subgraph';

runUntilSignal('payment-subgraph', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const server = await startSubgraph(paymentSubgraph, backends, cfg);
  loggerFor('payment-subgraph').info({ url: server.url, ...backends.description }, 'payment subgraph ready');
  return {
    close: async () => {
      await server.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
