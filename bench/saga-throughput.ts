// Benchmark: order sagas end to end through RabbitMQ on the embedded store — checkout (order.created
// + payment.initiated) -> outbox relay -> payment (authorise, capture) -> inventory -> shipping ->
// order.completed, with the notification, accounting and membership consumers also running.
// Reports sagas/s and p50/p99 saga duration (checkout to order.completed). Goal: >= 200 sagas/s.
// With --processes N (default 2, one per core), N-1 worker processes (dist/scripts/worker.js) join
// this one on the same data directory and queues, as a deployment scales its workers: consumers
// compete on the queues, and the outbox relay runs in whichever process holds its lease.
//   node dist/bench/saga-throughput.js [--orders 1000] [--concurrency 200] [--processes 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { ack } from '../messaging/bus/event-bus';
import { createBackends } from '../messaging/backends';
import { loadConfig } from '../platform/config';
import { MemberService } from '../subgraphs/member/domain/member-service';
import { startWorkers } from '../subgraphs/workers';
import { testCards } from '../subgraphs/payment/domain/simulated-card-processor';
import { arg, machine, numberArg, percentile, runAsMain, startWorkerProcess } from './report';
import { onFreshVhost } from './broker';

export interface SagaThroughputOptions {
  readonly orders: number;
  /** Orders in flight at once (a closed loop: a new checkout when a saga ends). */
  readonly concurrency: number;
  readonly rabbitmqUrl: string;
  /** Worker processes in all, this one included. */
  readonly processes: number;
}

export interface SagaThroughputResult {
  readonly orders: number;
  readonly concurrency: number;
  readonly processes: number;
  readonly completed: number;
  readonly seconds: number;
  readonly sagasPerSecond: number;
  readonly durationMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly goal: { readonly sagasPerSecond: number; readonly met: boolean };
  readonly machine: ReturnType<typeof machine>;
}

export async function runSagaThroughput(options: SagaThroughputOptions): Promise<SagaThroughputResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-bench-'));
  // Production names, in the run's own vhost (options.rabbitmqUrl): nothing else on the broker reaches it.
  const env = { DATA_DIR: dataDir, RABBITMQ_URL: options.rabbitmqUrl, SAGA_STEP_TIMEOUT_MS: '600000', LOG_LEVEL: 'warn' };
  const cfg = loadConfig(env);
  const backends = await createBackends(cfg);
  const workers = await startWorkers(backends, cfg, { member: { mailer: { transport: 'mailbox', send: async () => undefined, close: async () => undefined } } });
  const extra = await Promise.all(
    Array.from({ length: Math.max(0, options.processes - 1) }, () =>
      startWorkerProcess(env),
    ),
  );
  const orders = workers.payment.slice.orderService;
  const started = new Map<string, number>();
  const durations: number[] = [];
  let finished = 0;
  let completed = 0;
  let resolveAll: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
  let placed = 0;
  const admin = { sub: 'bench-admin', role: 'admin' as const, expiresAt: null };
  const place = async (): Promise<void> => {
    if (placed >= options.orders) return;
    placed++;
    const t0 = performance.now();
    const view = await orders.create(
      admin,
      { memberId: `bench-${placed % 500}`, items: [{ sku: 'COURSE-ETHICS', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } },
      { correlationId: randomUUID() },
    );
    started.set(view.id, t0);
  };
  const done = await backends.bus.consume(
    { queue: `${cfg.QUEUE_PREFIX}bench-done`, bindings: ['order.completed', 'order.failed', 'order.cancelled'], exclusive: true, prefetch: 500 },
    async (event) => {
      const orderId = (event.payload as { orderId: string }).orderId;
      const t0 = started.get(orderId);
      if (t0 === undefined) return ack;
      started.delete(orderId);
      durations.push(performance.now() - t0);
      finished++;
      if (event.type === 'order.completed') completed++;
      if (finished >= options.orders) resolveAll();
      else void place();
      return ack;
    },
  );
  // Orders are for registered members only: register the ones the orders name, before timing.
  const members = new MemberService(backends.store, backends.documents, backends.clock, 50);
  for (let i = 0; i < Math.min(500, options.orders + 1); i++) {
    await members.create(admin, { id: `bench-${i}`, email: `bench-${i}@example.org`, firstName: 'Bench', lastName: 'Member' }, { correlationId: randomUUID() });
  }
  await workers.relay.caughtUp();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.orders) }, () => place()));
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  await done.close();
  await Promise.all(extra.map((worker) => worker.stop()));
  await workers.close();
  await backends.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  durations.sort((a, b) => a - b);
  const sagasPerSecond = Math.round((options.orders / seconds) * 10) / 10;
  return {
    orders: options.orders,
    concurrency: options.concurrency,
    processes: options.processes,
    completed,
    seconds: Math.round(seconds * 100) / 100,
    sagasPerSecond,
    durationMs: { p50: percentile(durations, 50), p99: percentile(durations, 99), max: percentile(durations, 100) },
    goal: { sagasPerSecond: 200, met: sagasPerSecond >= 200 },
    machine: machine(),
  };
}

if (require.main === module) {
  runAsMain(() =>
    onFreshVhost('saga', (rabbitmqUrl) => runSagaThroughput({
      orders: numberArg('orders', 1000),
      concurrency: numberArg('concurrency', 200),
      processes: numberArg('processes', 2),
      rabbitmqUrl,
    })),
  );
}
