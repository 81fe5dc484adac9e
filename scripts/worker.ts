// The worker process (docker-compose `worker`): home of the outbox relay, consumers, sagas and
// schedulers. None is registered yet, so for now it validates the configuration and idles until SIGTERM.
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { loggerFor } from '../platform/logger';

runUntilSignal('worker', async () => {
  const cfg = config();
  const logger = loggerFor('worker');
  // Signal handlers do not keep Node's event loop alive; this timer does, until close().
  const keepAlive = setInterval(() => undefined, 60 * 60 * 1000);
  logger.info(
    {
      eventStore: cfg.MONGODB_URI ? 'mongodb' : 'embedded',
      eventBus: cfg.RABBITMQ_URL ? 'rabbitmq' : 'in-process',
    },
    'worker started: no workers registered yet',
  );
  return {
    close: async () => {
      clearInterval(keepAlive);
    },
  };
}, () => config().SHUTDOWN_TIMEOUT_MS);
