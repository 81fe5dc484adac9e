// The worker process (docker-compose `worker`): the outbox relay and the bus consumers, with
// /health (alive, and the relay's position), /ready (its backends answer) and /metrics on WORKER_PORT.
import 'reflect-metadata';
import { createBackends } from '../messaging/backends';
import { metricsRoute } from '../messaging/monitor/metrics';
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { loggerFor } from '../platform/logger';
import { listen } from '../platform/http-listen';
import { readyRoute, routedServer, sendJson } from '../platform/http-server';
import { startWorkers } from '../subgraphs/workers';

runUntilSignal('worker', async () => {
  const cfg = config();
  const backends = await createBackends(cfg);
  const workers = await startWorkers(backends, cfg);
  const server = routedServer(
    {
      '/health': {
        methods: ['GET'],
        handle: (_req, res) =>
          sendJson(res, 200, { status: 'ok', relay: { active: workers.relayActive(), ...workers.relay.status() }, consumers: workers.consumers.map((c) => c.queue) }),
      },
      '/ready': readyRoute(() => backends.health()),
      '/metrics': metricsRoute,
    },
    loggerFor('worker'),
  );
  await listen(server, cfg.WORKER_PORT, cfg.HOST);
  loggerFor('worker').info({ ...backends.description, port: cfg.WORKER_PORT }, 'worker started');
  return {
    close: async () => {
      await server.drain();
      await workers.close();
      await backends.close();
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
