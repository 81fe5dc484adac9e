// Structured logging (pino). Every log line of a request or a message carries its correlationId.
import pino, { type Logger } from 'pino';

export type { Logger };

export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.SERVICE_NAME ?? 'membership' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: ['req.headers.authorization', '*.token', '*.password', '*.cardNumber'], censor: '[redacted]' },
});

/** A child logger for one component (`{ component: 'outbox-relay' }`). */
export function loggerFor(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}
