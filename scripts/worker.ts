// The worker process (docker-compose `worker`): the outbox relay and the bus consumers.
import 'reflect-metadata';
import { createBackends } from '../messaging/backends';
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { loggerFor } from '../platform/logger';
import { startWorkers } from '../subgraphs/workers';

runUntilSignal('worker', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const workers = await startWorkers(backends, cfg);
  loggerFor('worker').info(backends.description, 'worker started');
  return {
    close: async () => {
      await workers.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
