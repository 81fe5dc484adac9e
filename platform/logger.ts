// Structured logging (pino). Every log line of a request or a message carries its correlationId.
// Lines written inside a span carry its traceId and spanId.
// The root logger is made on first use, so a bad LOG_LEVEL surfaces as a ConfigError at start.
import pino, { type Logger } from 'pino';
import { config } from './config';
import { activeTraceIds } from './tracing';

export type { Logger };

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= createRootLogger();
  return root;
}

/** The root logger's settings, writing to `destination` (stdout when absent), at `level` (LOG_LEVEL when absent). */
export function createRootLogger(destination?: pino.DestinationStream, level: string = config().LOG_LEVEL): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'membership' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.token', '*.password', '*.cardNumber'], censor: '[redacted]' },
    // Every line written inside a span carries its trace and span ids (nothing while tracing is off).
    // pino merges the line's own fields into what the mixin returns: a fresh object every time.
    mixin: () => activeTraceIds() ?? {},
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A child logger for one component (`{ component: 'outbox-relay' }`). */
export function loggerFor(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** Adapts a pino logger to the logger interface Apollo Server and Gateway expect. */
export function apolloLogger(logger: Logger) {
  return {
    debug: (message: string) => logger.debug(message),
    info: (message: string) => logger.info(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string) => logger.error(message),
  };
}
