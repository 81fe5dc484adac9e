// A recurring job's failures logged as one episode: a line when it starts failing, a line when it
// works again, and nothing in between above debug — not a warning per tick or per retry (a MongoDB
// outage of 90 s used to leave 90 warnings from one saga timeout scanner). A backend outage itself is
// warned about once by the backend's client (platform/mongodb.ts, the RabbitMQ bus); a job caught up
// in it (UNAVAILABLE) only notes it at info.
import { systemClock, type Clock } from './clock';
import { isDomainError } from './errors';
import type { Logger } from './logger';

export class FailureStreak {
  private failures = 0;
  private since = 0;

  constructor(
    private readonly logger: Logger,
    /** What fails, for the log lines ("saga timeout scan"). */
    private readonly what: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Whether the last attempt failed. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Failures in a row, since the last success. */
  get count(): number {
    return this.failures;
  }

  failed(error: unknown, fields: Record<string, unknown> = {}): void {
    this.failures++;
    if (this.failures > 1) {
      this.logger.debug({ err: error, ...fields, failures: this.failures }, `${this.what} still failing`);
      return;
    }
    this.since = this.clock.now().getTime();
    const outage = isDomainError(error) && error.code === 'UNAVAILABLE';
    this.logger[outage ? 'info' : 'warn']({ err: error, ...fields }, `${this.what} failed; retrying (logged again when it works)`);
  }

  succeeded(fields: Record<string, unknown> = {}): void {
    if (this.failures === 0) return;
    this.logger.info({ ...fields, failures: this.failures, failingForMs: this.clock.now().getTime() - this.since }, `${this.what} works again`);
    this.failures = 0;
  }
}
