// Process lifecycle: run a service until SIGTERM/SIGINT, then close it within a deadline.
import { loggerFor } from './logger';
import { config, ConfigError } from './config';
import { startTracing } from './tracing';

/** A process's default `service.name`: `membership-gateway`, `membership-payment`, ... (`membership` for all in one). */
export function serviceNameOf(name: string): string {
  const process = name.replace(/-subgraph$/, '');
  return process === 'membership' ? 'membership' : `membership-${process}`;
}

export interface Closable {
  close(): Promise<void>;
}

/** Start something; on a signal close it (bounded by timeoutMs) and exit. Start failures exit 1. */
export function runUntilSignal(name: string, start: () => Promise<Closable>, timeoutMs: () => number): void {
  Promise.resolve()
    .then(async () => {
      const deadlineMs = timeoutMs(); // reads (and so validates) the configuration first
      // Tracing before anything else, so the first request's spans are exported (off unless configured).
      const tracing = startTracing(config(), { serviceName: serviceNameOf(name) });
      const logger = loggerFor(name);
      const service = await start();
      // Spans still buffered leave once the service has stopped.
      return { service: { close: () => service.close().finally(() => tracing.shutdown().catch(() => undefined)) }, logger, deadlineMs };
    })
    .then(({ service, logger, deadlineMs }) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        // The deadline timer also keeps the process alive until close() is done: were the event
        // loop to run empty half way (a step awaiting only unreferenced handles), the process would
        // end there with code 0, the rest of its shutdown never run.
        setTimeout(() => {
          logger.error('shutdown deadline passed; exiting anyway');
          process.exit(1);
        }, deadlineMs);
        service.close().then(
          () => {
            logger.info('stopped cleanly');
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError) {
        console.error(error.message);
      } else {
        console.error(`${name} failed to start:`, error);
      }
      process.exit(1);
    });
}
