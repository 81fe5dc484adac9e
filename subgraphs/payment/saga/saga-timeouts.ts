// The saga's step timeouts: a durable scan of open orders whose step deadline has passed, by the
// injected clock. Deadlines live in the order views (derived from the stream), so a restarted
// worker finds every overdue saga; several scanners at once are safe because each decision is an
// append with the expected version.
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import type { Logger } from '../../../platform/logger';
import type { OrderView } from '../domain/read-models';
import type { OrderSagaRunner } from './saga-runner';

export interface SagaTimeoutScannerOptions {
  readonly intervalMs: number;
  /** Overdue sagas handled per scan. */
  readonly batchSize?: number;
}

export class SagaTimeoutScanner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly runner: OrderSagaRunner,
    private readonly orders: DocumentCollection<OrderView>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: SagaTimeoutScannerOptions,
  ) {}

  /** Time out every overdue saga now; resolves to how many were handled. */
  async scanOnce(): Promise<number> {
    // One scan at a time in a process: an interval tick during a slow scan joins it.
    this.running ??= this.scan().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.scanOnce().catch((error: unknown) => this.logger.warn({ err: error }, 'saga timeout scan failed; next tick retries'));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async scan(): Promise<number> {
    const now = this.clock.now();
    const limit = this.options.batchSize ?? 100;
    let handled = 0;
    // Bounded: sagas whose timeout keeps failing must not spin one scan forever.
    for (let page = 0; page < 20; page++) {
      const open = await this.orders.find({ where: { open: true }, orderBy: { field: 'deadlineAt' }, limit });
      const overdue = open.filter((o) => o.deadlineAt !== null && new Date(o.deadlineAt) <= now);
      for (const order of overdue) {
        try {
          await this.runner.apply(
            order.id,
            { kind: 'timeout' },
            { correlationId: order.correlationId, causationId: null, actor: { id: 'order-saga-timeouts', role: 'system' } },
            `timeout:${order.id}:${order.version}`,
          );
          handled++;
        } catch (error) {
          this.logger.warn({ err: error, orderId: order.id }, 'saga timeout failed; the next scan retries');
        }
      }
      // A full page entirely overdue may hide more overdue sagas behind it.
      if (overdue.length < limit) return handled;
    }
    return handled;
  }
}
