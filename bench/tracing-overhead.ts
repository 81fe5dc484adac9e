// Benchmark: what tracing costs. The whole product in one process (in-memory store, in-process bus,
// the four subgraphs, the workers and the gateway on loopback) takes `--orders` createOrder mutations
// through the gateway, `--concurrency` at a time, each driving the order saga to its end (about 15
// events, 10 consumer deliveries and 9 saga steps). Run in a fresh process per mode, as a deployment
// starts: tracing off; on, sampling 100 %; on, sampling 1 % (parentbased_traceidratio 0.01); spans
// go over OTLP/HTTP (protobuf, batched) to a sink in the parent process that counts and drops them.
// Modes alternate for `--rounds`; each reports orders/s to completion, mutation p50/p99 and CPU per order.
//   node dist/bench/tracing-overhead.js [--orders 400] [--concurrency 20] [--rounds 2]
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { createMemoryBackends } from '../messaging/backends';
import { mintClientToken } from '../platform/auth';
import { loadConfig } from '../platform/config';
import { startTracing } from '../platform/tracing';
import { startGateway } from '../gateway/gateway-server';
import { subgraphList } from '../subgraphs';
import { startSubgraph, type StartedSubgraph } from '../subgraphs/common/start-subgraph';
import { startWorkers } from '../subgraphs/workers';
import { arg, choiceArg, machine, numberArg, percentile, runAsMain } from './report';

const MODES = ['off', 'on-100', 'on-1'] as const;
type Mode = (typeof MODES)[number];

const modeEnv: Record<Mode, Record<string, string>> = {
  off: {},
  'on-100': { OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
  'on-1': { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' },
};

interface ModeResult {
  readonly mode: Mode;
  readonly orders: number;
  readonly ordersPerSecond: number;
  readonly mutationP50Ms: number;
  readonly mutationP99Ms: number;
  readonly cpuMsPerOrder: number;
}

/** One mode, in this process: start the product, warm up, then time the orders to their completion. */
async function runMode(mode: Mode, orders: number, concurrency: number): Promise<ModeResult> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', FOLLOWER_POLL_MS: '20' });
  const tracing = startTracing(config, { serviceName: `membership-bench-${mode}` });
  const backends = await createMemoryBackends();
  const subgraphs: Record<string, StartedSubgraph> = {};
  for (const definition of subgraphList) subgraphs[definition.name] = await startSubgraph(definition, backends, config, { port: 0, host: '127.0.0.1' });
  const workers = await startWorkers(backends, config);
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, s]) => [name, s.url])),
    jwtSecret: config.JWT_SECRET,
    subgraphSecret: config.SUBGRAPH_SECRET,
    sandbox: false,
    introspection: false,
    production: false,
  });
  let completed = 0;
  let onCompleted: (() => void) | null = null;
  backends.onAppend((appended) => {
    for (const event of appended) if (event.type === 'order.completed') completed++;
    onCompleted?.();
  });

  const post = async (query: string, variables: Record<string, unknown>, token: string): Promise<void> => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors?: unknown[] };
    if (body.errors) throw new Error(`${mode}: ${JSON.stringify(body.errors)}`);
  };
  const members = Array.from({ length: concurrency }, () => `bench-${randomUUID().slice(0, 8)}`);
  const tokens = members.map((sub) => mintClientToken({ sub, role: 'member' }, config.JWT_SECRET, { expiresInSeconds: 3600 }));
  for (const [index, sub] of members.entries()) {
    await post(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, { input: { email: `${sub}@example.org`, firstName: 'Bench', lastName: 'Mark' } }, tokens[index] as string);
  }
  const order = (index: number) =>
    post(
      `mutation PlaceOrder($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
      { input: { items: [{ sku: 'MEM-BASIC-12', quantity: 1 }], card: { number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' } } },
      tokens[index % tokens.length] as string,
    );
  const untilCompleted = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (completed < count) return;
        onCompleted = null;
        resolve();
      };
      onCompleted = check;
      check();
    });

  // Warm-up (JIT, pools, caches), then the timed run.
  const warmup = Math.max(20, Math.floor(orders / 10));
  await Promise.all(Array.from({ length: warmup }, (_, i) => order(i)));
  await untilCompleted(warmup);

  const latencies: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (next < orders) {
        next++;
        const t0 = performance.now();
        await order(lane);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  await untilCompleted(warmup + orders);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);

  await gateway.close();
  await workers.close();
  await Promise.all(Object.values(subgraphs).map((s) => s.close()));
  await backends.close();
  await tracing.shutdown();
  return {
    mode,
    orders,
    ordersPerSecond: Math.round((orders / seconds) * 10) / 10,
    mutationP50Ms: percentile(latencies, 50),
    mutationP99Ms: percentile(latencies, 99),
    cpuMsPerOrder: Math.round(((used.user + used.system) / 1000 / orders) * 100) / 100,
  };
}

/** An OTLP/HTTP sink that answers every export and counts what it got. */
async function startSink(): Promise<{ url: string; requests: () => number; bytes: () => number; close: () => Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const orders = numberArg('orders', 400);
  const concurrency = numberArg('concurrency', 20);
  if (arg('mode') !== undefined) return runMode(choiceArg('mode', MODES, 'off'), orders, concurrency);

  const rounds = numberArg('rounds', 2);
  const sink = await startSink();
  const runs: (ModeResult & { round: number; exportRequests: number; exportKiB: number })[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const mode of MODES) {
      const before = { requests: sink.requests(), bytes: sink.bytes() };
      // The sink answers from this process while the child runs: spawn asynchronously.
      const child = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const env = { ...process.env, LOG_LEVEL: 'warn', ...(mode === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }), ...modeEnv[mode] };
        const proc = spawn(process.execPath, ['--max-semi-space-size=64', __filename, '--mode', mode, '--orders', String(orders), '--concurrency', String(concurrency)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        proc.on('exit', (status) => resolve({ status, stdout }));
      });
      if (child.status !== 0) throw new Error(`mode ${mode} exited with ${child.status}`);
      const result = JSON.parse(child.stdout.slice(child.stdout.indexOf('{'))) as ModeResult;
      runs.push({ ...result, round, exportRequests: sink.requests() - before.requests, exportKiB: Math.round((sink.bytes() - before.bytes) / 1024) });
      console.error(`round ${round} ${mode}: ${result.ordersPerSecond} orders/s, mutation p50 ${result.mutationP50Ms} ms p99 ${result.mutationP99Ms} ms, ${result.cpuMsPerOrder} ms CPU/order`);
    }
  }
  await sink.close();
  const mean = (mode: Mode, key: 'ordersPerSecond' | 'cpuMsPerOrder' | 'mutationP50Ms' | 'mutationP99Ms') => {
    const values = runs.filter((r) => r.mode === mode).map((r) => r[key]);
    return Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
  };
  const summary = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      {
        ordersPerSecond: mean(mode, 'ordersPerSecond'),
        cpuMsPerOrder: mean(mode, 'cpuMsPerOrder'),
        mutationP50Ms: mean(mode, 'mutationP50Ms'),
        mutationP99Ms: mean(mode, 'mutationP99Ms'),
        throughputVsOff: Math.round((mean(mode, 'ordersPerSecond') / mean('off', 'ordersPerSecond')) * 1000) / 1000,
        cpuVsOff: Math.round((mean(mode, 'cpuMsPerOrder') / mean('off', 'cpuMsPerOrder')) * 1000) / 1000,
      },
    ]),
  );
  return { benchmark: 'tracing-overhead', machine: machine(), at: new Date().toISOString(), orders, concurrency, rounds, summary, runs };
}

runAsMain(main);
