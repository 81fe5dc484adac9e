// The product under test in the subscription benchmark, in a child process of its own, so that the
// benchmark's clients (the load generator and the subscribers) do not share its event loop: the four
// subgraphs and the workers (outbox relay, consumers) in one process, as `npm start` runs them, on
// the embedded store and RabbitMQ. With BENCH_WORKERS=process the workers run in a worker process of
// their own (dist/scripts/worker.js), as a compose deployment runs them.
// Settings come from the environment (DATA_DIR, RABBITMQ_URL, QUEUE_PREFIX, RABBITMQ_EXCHANGE,
// JWT_SECRET, SUBGRAPH_SECRET); it reports ProductReady over IPC and stops on SIGTERM or a
// `bench:stop` message. With BENCH_GATEWAYS_IN_PRODUCT=1 it also runs two gateways in its own
// process, as `npm start` does: one calling the subgraphs in process, one over HTTP (the query
// benchmark's single-process modes).
import 'reflect-metadata';
import { createBackends } from '../messaging/backends';
import { loadConfig } from '../platform/config';
import { subgraphList } from '../subgraphs';
import { startSubgraph, type StartedSubgraph } from '../subgraphs/common/start-subgraph';
import { startWorkers, type RunningWorkers } from '../subgraphs/workers';
import { startWorkerProcess, type WorkerProcess } from './report';
import { startGateway, type RunningGateway } from '../gateway/gateway-server';

export interface ProductReady {
  readonly type: 'bench:product-ready';
  readonly subgraphUrls: Record<string, string>;
  /** The worker process's pid, when the workers run in one of their own. */
  readonly workerPid: number | null;
  /** Durable consumer queues the product declared (the benchmark deletes them afterwards). */
  readonly queues: readonly string[];
  /** Gateways in this process (BENCH_GATEWAYS_IN_PRODUCT=1): subgraphs called in process, and over HTTP. */
  readonly gatewayUrls: { readonly inProcess: string; readonly http: string } | null;
}

async function main(): Promise<void> {
  const cfg = loadConfig({ ...process.env, HOST: '127.0.0.1' });
  const backends = await createBackends(cfg);
  const subgraphs: StartedSubgraph[] = [];
  let workers: RunningWorkers | null = null;
  let workerProcess: WorkerProcess | null = null;
  let stopping: Promise<void> | null = null;
  const gateways: RunningGateway[] = [];
  const stop = () =>
    (stopping ??= (async () => {
      for (const gateway of gateways) await gateway.close();
      await workers?.close();
      await workerProcess?.stop();
      for (const subgraph of subgraphs) await subgraph.close();
      await backends.close();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('the benchmark product did not stop cleanly:', error);
        process.exit(1);
      },
    ));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'bench:stop') void stop();
  });
  // The parent going away (killed, crashed) takes this process with it.
  process.on('disconnect', stop);

  const subgraphUrls: Record<string, string> = {};
  for (const definition of subgraphList) {
    const started = await startSubgraph(definition, backends, cfg, { port: 0, host: '127.0.0.1' });
    subgraphs.push(started);
    subgraphUrls[definition.name] = started.url;
  }
  if (process.env.BENCH_WORKERS === 'process') {
    workerProcess = await startWorkerProcess({
      DATA_DIR: cfg.DATA_DIR,
      RABBITMQ_URL: cfg.RABBITMQ_URL ?? '',
      QUEUE_PREFIX: cfg.QUEUE_PREFIX,
      RABBITMQ_EXCHANGE: cfg.RABBITMQ_EXCHANGE,
      LOG_LEVEL: cfg.LOG_LEVEL,
      JWT_SECRET: cfg.JWT_SECRET,
      SUBGRAPH_SECRET: cfg.SUBGRAPH_SECRET,
      FOLLOWER_POLL_MS: String(cfg.FOLLOWER_POLL_MS),
    });
  } else {
    // No mail leaves a benchmark: the consumer still composes, records and reports every email.
    workers = await startWorkers(backends, cfg, { member: { mailer: { transport: 'mailbox', send: async () => undefined, close: async () => undefined } } });
  }
  let gatewayUrls: ProductReady['gatewayUrls'] = null;
  if (process.env.BENCH_GATEWAYS_IN_PRODUCT === '1') {
    const common = {
      host: '127.0.0.1',
      port: 0,
      subgraphUrls,
      jwtSecret: cfg.JWT_SECRET,
      subgraphSecret: cfg.SUBGRAPH_SECRET,
      sandbox: false,
      introspection: false,
      production: true,
    };
    const inProcess = await startGateway({ ...common, inProcessSubgraphs: Object.fromEntries(subgraphList.map((e, i) => [e.name, subgraphs[i] as StartedSubgraph])) });
    const overHttp = await startGateway(common);
    gateways.push(inProcess, overHttp);
    gatewayUrls = { inProcess: inProcess.url, http: overHttp.url };
  }
  const ready: ProductReady = {
    type: 'bench:product-ready',
    subgraphUrls,
    workerPid: workerProcess?.pid ?? null,
    queues: workers?.consumers.map((c) => c.queue) ?? workerProcess?.queues ?? [],
    gatewayUrls,
  };
  process.send?.(ready);
}

main().catch((error: unknown) => {
  console.error('the benchmark product did not start:', error);
  process.exit(1);
});
