// The saga's step timeouts: a durable scan of open orders whose step deadline has passed, by the
// injected clock. Deadlines live in the order views (derived from the stream), so a restarted
// worker finds every overdue saga; several scanners at once are safe because each decision is an
// append with the expected version. Time no worker ran does not count against a step
// (worker-downtime.ts), and a reply already recorded in the store wins over the deadline.
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { FailureStreak } from '../../../platform/failure-streak';
import type { Logger } from '../../../platform/logger';
import type { OrderView } from '../domain/read-models';
import type { OrderSagaRunner } from './saga-runner';
import { stepOverdue, type WorkerDowntime } from './worker-downtime';

export interface SagaTimeoutScannerOptions {
  readonly intervalMs: number;
  /** The saga's step timeout, to find when an overdue step started. */
  readonly stepTimeoutMs: number;
  /** The workers' heartbeat: every scan beats it, and its pauses extend the deadlines. */
  readonly downtime: WorkerDowntime;
  /** Overdue sagas handled per scan. */
  readonly batchSize?: number;
}

export class SagaTimeoutScanner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  /** Scans failing (MongoDB down): logged when they start failing and when they work again. */
  private readonly scans: FailureStreak;
  /** Orders whose timeout keeps failing while others succeed, each logged once per episode. */
  private readonly failingOrders = new Map<string, FailureStreak>();

  constructor(
    private readonly runner: OrderSagaRunner,
    private readonly orders: DocumentCollection<OrderView>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: SagaTimeoutScannerOptions,
  ) {
    this.scans = new FailureStreak(logger, 'saga timeout scan', clock);
  }

  /** Time out every overdue saga now; resolves to how many were timed out. */
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
      // A tick during a slow scan skips: the scan running reports its own outcome, once.
      if (this.running) return;
      this.scanOnce().then(
        () => this.scans.succeeded(),
        (error: unknown) => this.scans.failed(error),
      );
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
    const pauses = await this.options.downtime.beat(now);
    const limit = this.options.batchSize ?? 100;
    let handled = 0;
    const seen = new Set<string>();
    // Bounded: sagas whose timeout keeps failing must not spin one scan forever.
    for (let page = 0; page < 20; page++) {
      const open = await this.orders.find({ where: { open: true }, orderBy: { field: 'deadlineAt' }, limit });
      const overdue = open.filter((o) => o.deadlineAt !== null && stepOverdue(o.deadlineAt, this.options.stepTimeoutMs, now, pauses));
      for (const order of overdue) {
        seen.add(order.id);
        try {
          // The step's reply may be in the store while its delivery to the saga is still queued.
          if ((await this.runner.applyRecordedReplies(order.id)) > 0) continue;
          await this.runner.apply(
            order.id,
            { kind: 'timeout' },
            { correlationId: order.correlationId, causationId: null, actor: { id: 'order-saga-timeouts', role: 'system' } },
            `timeout:${order.id}:${order.version}`,
          );
          handled++;
          this.failingOrders.get(order.id)?.succeeded({ orderId: order.id });
          this.failingOrders.delete(order.id);
        } catch (error) {
          let streak = this.failingOrders.get(order.id);
          if (!streak) this.failingOrders.set(order.id, (streak = new FailureStreak(this.logger, `saga timeout of order ${order.id}`, this.clock)));
          streak.failed(error, { orderId: order.id });
        }
      }
      // A full page entirely overdue may hide more overdue sagas behind it.
      if (overdue.length < limit) break;
    }
    // An order no longer overdue (decided elsewhere) ends its failure episode silently.
    for (const id of this.failingOrders.keys()) if (!seen.has(id)) this.failingOrders.delete(id);
    return handled;
  }
}
