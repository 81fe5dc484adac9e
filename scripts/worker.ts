// The worker process (docker-compose `worker`): the outbox relay and the bus consumers, with
// /health (alive, and the relay's position) and /metrics on WORKER_PORT.
import 'reflect-metadata';
import http from 'node:http';
import express from 'express';
import { createBackends } from '../messaging/backends';
import { metricsRegistry } from '../messaging/monitor/metrics';
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { loggerFor } from '../platform/logger';
import { listen } from '../platform/http-listen';
import { startWorkers } from '../subgraphs/workers';

runUntilSignal('worker', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const workers = await startWorkers(backends, cfg);
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', relay: { active: workers.relayActive(), ...workers.relay.status() }, consumers: workers.consumers.map((c) => c.queue) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });
  const server = http.createServer(app);
  await listen(server, cfg.WORKER_PORT, cfg.HOST);
  loggerFor('worker').info({ ...backends.description, port: cfg.WORKER_PORT }, 'worker started');
  return {
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await workers.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
