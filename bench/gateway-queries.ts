// Benchmark: queries and a mutation through a gateway, ours against Hive Gateway on the same
// subgraphs in the same run. The product (four subgraphs and the workers, embedded store and
// in-process bus, as `npm start` runs them) runs in a child process (dist/bench/subscription-product.js);
// each gateway runs in a child process of its own (bench/subscription-targets.ts): ours; Hive Gateway
// as its CLI runs when not told otherwise (its default `--fork` is 1 in 2.15: one process, no
// workers); and Hive Gateway with one worker per core (`--fork <cores>`, the most its CLI allows).
// With `--gateways` naming them, also our gateway inside the product's process, as `npm start` runs
// it: `ours-1p` calling the subgraphs in process (IN_PROCESS_SUBGRAPHS), `ours-1p-http` over HTTP
// (their CPU is the product's: gateway and subgraphs together).
// This process seeds the data and runs the load generator (autocannon, `--connections` connections).
//
// Workloads (bench/gateway-query-workloads.ts): one subgraph; the frontend query across all four;
// a paginated list with nested entity fields from another subgraph; a cheap mutation. Per round,
// per workload, the gateways are measured one after the other (warm-up, then `--seconds` of load),
// so each round alternates them under the same conditions. Before and after every measurement the
// gateway's answer is checked: no errors, and the same data as the first gateway's; during it,
// autocannon counts every answer whose body differs from that one (a mismatch), every non-2xx and
// every error. CPU per request is read from /proc/<pid>/stat: the gateway (with its worker
// processes) and the product (the subgraphs).
//   node dist/bench/gateway-queries.js [--members 50] [--seconds 10] [--warm-seconds 3]
//     [--connections 50] [--rounds 2] [--gateways ours,hive,hive-cores,ours-1p-http,ours-1p] [--workloads single,frontend,list,mutation]
//     [--wait-for-windows yes|no]
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { GATEWAY_IDENTITY_HEADER, mintClientToken, signForwardedIdentity, type Identity } from '../platform/auth';
import { arg, choiceArg, machine, numberArg, runAsMain } from './report';
import type { ProductReady } from './subscription-product';
import { productReady, stopProduct } from './product-child';
import { hiveInstalled, processTreeCpuSeconds, repoRoot, startTarget, type GatewayTarget } from './subscription-targets';
import { workloads, type Workload, type WorkloadName } from './gateway-query-workloads';
import { testCards } from '../subgraphs/payment/domain/simulated-card-processor';
import { NODE_FLAGS } from '../platform/node-flags';

/** The gateways measured: ours; Hive Gateway as its users run it (its default: one process); Hive with a worker per core. */
const gatewayNames = ['ours', 'hive', 'hive-cores', 'ours-1p-http', 'ours-1p'] as const;
/** Our gateway in the product's process (`npm start`): over HTTP, and calling the subgraphs in process. */
const inProductGateways: readonly GatewayName[] = ['ours-1p-http', 'ours-1p'];
type GatewayName = (typeof gatewayNames)[number];

export interface GatewayQueriesOptions {
  readonly members: number;
  readonly seconds: number;
  readonly warmSeconds: number;
  readonly connections: number;
  readonly rounds: number;
  readonly gateways: readonly GatewayName[];
  readonly workloads: readonly WorkloadName[];
  /** Wait for the seeded analytics windows to close before measuring (off only for profiling runs: the data may then change mid-run). */
  readonly waitForWindows: boolean;
}

/** The product's allowed lateness of analytics events (default 30 s): shortens the wait for the seeded windows to close. */
const ANALYTICS_LATENESS_MS = 1000;
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

interface Secrets {
  readonly jwtSecret: string;
  readonly subgraphSecret: string;
}

/** A GraphQL call straight to a subgraph, signed as the gateway would for `identity` (seeding). */
async function subgraphCall<T>(url: string, secrets: Secrets, identity: Identity, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [GATEWAY_IDENTITY_HEADER]: signForwardedIdentity(identity, secrets.subgraphSecret) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`seeding failed: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

export interface Seeded {
  /** The member the frontend query reads (has certifications, paid orders, payments, activity). */
  readonly focusMember: string;
  readonly memberIds: readonly string[];
  readonly sku: string;
}

/**
 * Members; for each, two certifications applied for and some activity; for the focus member (and
 * every tenth) two orders paid by the saga. Waits until every order is paid, so the data no longer
 * changes while gateways are compared.
 */
async function seed(urls: Record<string, string>, secrets: Secrets, members: number): Promise<Seeded> {
  const admin: Identity = { sub: 'bench-admin', role: 'admin', expiresAt: null };
  const run = randomUUID().slice(0, 6);
  const memberIds = Array.from({ length: members }, (_, i) => `bench-${run}-m${String(i).padStart(3, '0')}`);
  const tiers = ['BASIC', 'PREMIUM', 'VIP'];
  const { certificationTypes } = await subgraphCall<{ certificationTypes: { code: string }[] }>(
    urls.certification as string, secrets, admin, '{ certificationTypes { code } }', {},
  );
  const { products } = await subgraphCall<{ products: { sku: string }[] }>(urls.payment as string, secrets, admin, '{ products { sku } }', {});
  const sku = products[0]?.sku;
  if (!sku || certificationTypes.length < 2) throw new Error('seeding: no products or too few certification types');
  const orders: string[] = [];
  for (const [i, id] of memberIds.entries()) {
    const self: Identity = { sub: id, role: 'member', expiresAt: null };
    await subgraphCall(urls.member as string, secrets, admin, 'mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }', {
      input: { id, email: `${id}@example.org`, firstName: `First${i}`, lastName: `Last${i}`, tier: tiers[i % tiers.length] },
    });
    for (const type of certificationTypes.slice(0, 2)) {
      await subgraphCall(urls.certification as string, secrets, self, 'mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id } }', {
        input: { certType: type.code, documents: [{ name: 'Transcript', url: `https://files.example.org/${id}/${type.code}.pdf` }] },
      });
    }
    await subgraphCall(urls.analytics as string, secrets, self, 'mutation($inputs: [ActivityInput!]!) { trackActivities(inputs: $inputs) { eventId } }', {
      inputs: [
        { memberId: id, type: 'MEMBER_LOGIN', location: 'Ghent' },
        { memberId: id, type: 'COURSE_STARTED', courseId: `course-${i % 7}` },
      ],
    });
    if (i % 10 === 0) {
      for (let n = 0; n < 2; n++) {
        const { createOrder } = await subgraphCall<{ createOrder: { id: string } }>(
          urls.payment as string, secrets, self, 'mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }',
          { input: { items: [{ sku, quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
        );
        orders.push(createOrder.id);
      }
    }
  }
  // The saga pays the orders in the background: wait until each has its payment settled.
  const deadline = Date.now() + 120_000;
  for (const id of orders) {
    for (;;) {
      const { order } = await subgraphCall<{ order: { status: string; payment: { status: string } | null } | null }>(
        urls.payment as string, secrets, admin, 'query($id: ID!) { order(id: $id) { status payment { status } } }', { id },
      );
      if (order && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(order.status)) break;
      if (Date.now() > deadline) throw new Error(`seeding: order ${id} was not paid within 120 s (${JSON.stringify(order)})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { focusMember: memberIds[0] as string, memberIds, sku };
}

/**
 * Wait until the analytics stream processor has closed every 5-minute window the seeding opened
 * (activity and the orders' payments), so engagement, summaries and reward points no longer change
 * while gateways are compared: up to the next window boundary plus the allowed lateness.
 */
async function windowsClosed(analyticsUrl: string, secrets: Secrets): Promise<number> {
  const admin: Identity = { sub: 'bench-admin', role: 'admin', expiresAt: null };
  const started = Date.now();
  for (;;) {
    const { analyticsStatus } = await subgraphCall<{ analyticsStatus: { openWindows: number } }>(
      analyticsUrl, secrets, admin, '{ analyticsStatus { openWindows } }', {},
    );
    if (analyticsStatus.openWindows === 0) return round1((Date.now() - started) / 1000);
    if (Date.now() - started > 420_000) throw new Error(`seeding: ${analyticsStatus.openWindows} analytics windows still open after 7 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

interface Request {
  readonly body: string;
  readonly headers: Record<string, string>;
}

function requestOf(workload: Workload, seeded: Seeded, secrets: Secrets): Request {
  const { query, variables, identity } = workload.request(seeded);
  const token = mintClientToken(identity, secrets.jwtSecret, { expiresInSeconds: 4 * 3600 });
  return {
    body: JSON.stringify({ query, variables }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  };
}

/** One answer of a gateway, as text and as data; fails on errors or a non-200. */
async function answer(url: string, request: Request): Promise<{ text: string; data: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  const body = JSON.parse(text) as { data?: unknown; errors?: unknown };
  if (response.status !== 200 || body.errors !== undefined || body.data === undefined) {
    throw new Error(`${url} answered ${response.status} ${text.slice(0, 1000)}`);
  }
  return { text, data: body.data };
}

interface Measurement {
  readonly gateway: GatewayName;
  readonly workload: WorkloadName;
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Answers other than the checked one, non-2xx answers, errors and timeouts: all must be 0. */
  readonly mismatches: number;
  /** The answer after the load still had the reference data (and no errors). */
  readonly sameDataAfter: boolean;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /**
   * CPU milliseconds per request: the gateway (all its processes), the product (the subgraphs), the
   * load generator. A gateway in the product's process has no figure of its own (null): `subgraphs`
   * is then gateway and subgraphs together.
   */
  readonly cpuMsPerRequest: { readonly gateway: number | null; readonly subgraphs: number; readonly loadGenerator: number };
}

async function load(url: string, request: Request, seconds: number, connections: number, expectBody: string | undefined) {
  return autocannon({
    url,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    connections,
    duration: seconds,
    ...(expectBody === undefined ? {} : { expectBody }),
  });
}

async function measure(
  name: GatewayName,
  target: GatewayTarget,
  workload: Workload,
  request: Request,
  reference: Map<WorkloadName, unknown>,
  productPid: number,
  options: GatewayQueriesOptions,
): Promise<Measurement> {
  // Checked before: no errors, and the same data as the reference gateway's (the first measured).
  const before = await answer(target.url, request);
  const expected = reference.get(workload.name);
  if (expected === undefined) reference.set(workload.name, before.data);
  else if (!isDeepStrictEqual(before.data, expected)) {
    throw new Error(`${name} answered ${workload.name} with other data than the first gateway: ${before.text.slice(0, 2000)}`);
  }
  // Mutations answer the same each time here (setStock to one value), so their bodies are checked too.
  if (options.warmSeconds > 0) await load(target.url, request, options.warmSeconds, options.connections, before.text);
  const inProduct = target.pid === productPid;
  const gateway0 = target.cpuSeconds();
  const product0 = processTreeCpuSeconds(productPid);
  const self0 = process.cpuUsage();
  const result = await load(target.url, request, options.seconds, options.connections, before.text);
  const gatewaySeconds = target.cpuSeconds() - gateway0;
  const productSeconds = processTreeCpuSeconds(productPid) - product0;
  const self = process.cpuUsage(self0);
  const after = await answer(target.url, request);
  const sameDataAfter = isDeepStrictEqual(after.data, reference.get(workload.name));
  if (!sameDataAfter) console.error(`${name} answered ${workload.name} differently after the load: ${after.text.slice(0, 2000)}`);
  const requests = result.requests.total;
  const perRequest = (seconds: number) => (requests > 0 ? round3((seconds * 1000) / requests) : NaN);
  return {
    gateway: name,
    workload: workload.name,
    requestsPerSecond: round1(requests / options.seconds),
    requests,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    mismatches: result.mismatches,
    sameDataAfter,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMsPerRequest: {
      gateway: inProduct ? null : perRequest(gatewaySeconds),
      subgraphs: perRequest(productSeconds),
      loadGenerator: perRequest((self.user + self.system) / 1e6),
    },
  };
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** Ours ÷ each Hive, per round and workload: req/s (above 1: ours serves more), p99 and gateway CPU per request (below 1: ours less). */
function comparison(rounds: readonly Measurement[][]) {
  return rounds.map((round) => {
    const out: Record<string, Record<string, { requestsPerSecond: number | null; p99: number | null; gatewayCpuPerRequest: number | null }>> = {};
    for (const ours of round.filter((m) => m.gateway === 'ours')) {
      for (const hive of round.filter((m) => m.gateway.startsWith('hive') && m.workload === ours.workload)) {
        (out[ours.workload] ??= {})[`ours/${hive.gateway}`] = {
          requestsPerSecond: ratio(ours.requestsPerSecond, hive.requestsPerSecond),
          p99: ratio(ours.latencyMs.p99, hive.latencyMs.p99),
          gatewayCpuPerRequest: ratio(ours.cpuMsPerRequest.gateway ?? undefined, hive.cpuMsPerRequest.gateway ?? undefined),
        };
      }
    }
    // In process ÷ over HTTP, both in the product's process (`npm start`).
    for (const local of round.filter((m) => m.gateway === 'ours-1p')) {
      const http = round.find((m) => m.gateway === 'ours-1p-http' && m.workload === local.workload);
      if (!http) continue;
      (out[local.workload] ??= {})['ours-1p/ours-1p-http'] = {
        requestsPerSecond: ratio(local.requestsPerSecond, http.requestsPerSecond),
        p99: ratio(local.latencyMs.p99, http.latencyMs.p99),
        gatewayCpuPerRequest: ratio(local.cpuMsPerRequest.subgraphs, http.cpuMsPerRequest.subgraphs),
      };
    }
    return out;
  });
}

export async function runGatewayQueries(options: GatewayQueriesOptions) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-queries-'));
  const secrets: Secrets = { jwtSecret: `bench-jwt-${randomUUID()}`, subgraphSecret: `bench-subgraph-${randomUUID()}` };
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  let child: ChildProcess | null = null;
  const targets = new Map<GatewayName, GatewayTarget>();
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const target of targets.values()) await target.close().catch(() => undefined);
      if (child) await stopProduct(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    })());
  const interrupted = () => {
    console.error('interrupted: stopping the gateways and the product');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    // Embedded store and in-process bus: the product as `npm start` runs it, with no broker.
    const productEnv: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete productEnv.RABBITMQ_URL;
    child = fork(path.join(__dirname, 'subscription-product.js'), [], {
      env: {
        ...productEnv,
        DATA_DIR: dataDir,
        LOG_LEVEL: logLevel,
        JWT_SECRET: secrets.jwtSecret,
        SUBGRAPH_SECRET: secrets.subgraphSecret,
        BENCH_WORKERS: 'in-process',
        // As deployed (Hive Gateway runs in production mode too): graphql-js's development checks off.
        NODE_ENV: 'production',
        BENCH_GATEWAYS_IN_PRODUCT: options.gateways.some((g) => inProductGateways.includes(g)) ? '1' : '0',
        // The seeded windows close sooner after their 5 minutes (the wait before measuring).
        ANALYTICS_ALLOWED_LATENESS_MS: String(ANALYTICS_LATENESS_MS),
      },
      // BENCH_PRODUCT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the subgraphs.
      // With the product's V8 flags, as `npm start` runs it (it may hold gateways here).
      execArgv: [...NODE_FLAGS, ...(process.env.BENCH_PRODUCT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')],
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const ready = await productReady(child);
    const productPid = child.pid ?? -1;
    const supergraphPath = path.join(dataDir, 'supergraph.graphql');
    let sdl = fs.readFileSync(path.join(repoRoot, 'supergraph.graphql'), 'utf8');
    for (const [name, url] of Object.entries(ready.subgraphUrls)) {
      sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${url}$2`);
    }
    fs.writeFileSync(supergraphPath, sdl);

    const seedStarted = Date.now();
    const seeded = await seed(ready.subgraphUrls, secrets, options.members);
    const seedSeconds = round1((Date.now() - seedStarted) / 1000);

    const gateways = options.gateways.filter((g) => !g.startsWith('hive') || hiveInstalled());
    const env = { JWT_SECRET: secrets.jwtSecret, SUBGRAPH_SECRET: secrets.subgraphSecret, LOG_LEVEL: logLevel, NODE_ENV: 'production' };
    for (const name of gateways) {
      if (inProductGateways.includes(name)) {
        const url = name === 'ours-1p' ? ready.gatewayUrls?.inProcess : ready.gatewayUrls?.http;
        if (!url) throw new Error('the product did not start its gateways');
        targets.set(name, inProductTarget(url, productPid));
        continue;
      }
      targets.set(
        name,
        await startTarget(name === 'ours' ? 'ours' : 'hive', {
          subgraphUrls: ready.subgraphUrls,
          env,
          supergraphPath,
          ...(name === 'hive-cores' ? { hiveWorkers: os.availableParallelism() } : name === 'hive' ? { hiveWorkers: 'default' as const } : {}),
        }),
      );
    }
    const windowWaitSeconds = options.waitForWindows ? await windowsClosed(ready.subgraphUrls.analytics as string, secrets) : null;
    const chosen = workloads.filter((w) => options.workloads.includes(w.name));
    const requests = new Map(chosen.map((w) => [w.name, requestOf(w, seeded, secrets)]));
    const reference = new Map<WorkloadName, unknown>();
    const rounds: Measurement[][] = [];
    for (let r = 0; r < options.rounds; r++) {
      const round: Measurement[] = [];
      for (const workload of chosen) {
        for (const name of gateways) {
          const m = await measure(name, targets.get(name) as GatewayTarget, workload, requests.get(workload.name) as Request, reference, productPid, options);
          console.error(
            `round ${r + 1} ${workload.name.padEnd(8)} ${name.padEnd(6)} ${String(m.requestsPerSecond).padStart(8)} req/s  p50 ${m.latencyMs.p50} p99 ${m.latencyMs.p99} ms  cpu/req gw ${m.cpuMsPerRequest.gateway} sg ${m.cpuMsPerRequest.subgraphs} ms  bad ${m.mismatches + m.non2xx + m.errors + m.timeouts}${m.sameDataAfter ? '' : ' DATA CHANGED'}`,
          );
          round.push(m);
        }
      }
      rounds.push(round);
    }
    return {
      benchmark: 'gateway-queries' as const,
      date: new Date().toISOString(),
      machine: machine(),
      loadAverage: os.loadavg().map(round1),
      settings: {
        members: options.members,
        seconds: options.seconds,
        warmSeconds: options.warmSeconds,
        connections: options.connections,
        rounds: options.rounds,
        gateways,
        // Worker processes each Hive ran with (0: it served from its one process).
        hiveWorkers: Object.fromEntries(gateways.filter((g) => g.startsWith('hive')).map((g) => [g, targets.get(g)?.workers() ?? null])),
        workloads: chosen.map((w) => ({ name: w.name, description: w.description, query: w.request(seeded).query })),
        store: 'embedded SQLite',
        bus: 'in-process',
        seedSeconds,
        windowWaitSeconds,
        analyticsAllowedLatenessMs: ANALYTICS_LATENESS_MS,
        ...(gateways.length < options.gateways.length ? { skipped: 'hive: not installed (npm ci --prefix bench/hive)' } : {}),
      },
      rounds,
      oursOverHive: comparison(rounds),
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanup();
  }
}

/** Our gateway in the product's process: measured on the product's CPU, stopped with it. */
function inProductTarget(url: string, productPid: number): GatewayTarget {
  return {
    kind: 'ours',
    url,
    pid: productPid,
    workers: () => null,
    cpuSeconds: () => processTreeCpuSeconds(productPid),
    memory: () => Promise.reject(new Error('not measured')),
    close: async () => undefined,
  };
}



function listArg<T extends string>(name: string, choices: readonly T[], fallback: readonly T[]): T[] {
  const raw = arg(name);
  if (raw === undefined) return [...fallback];
  const names = raw.split(',').map((g) => g.trim());
  const unknown = names.filter((g) => !(choices as readonly string[]).includes(g));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--${name} must list some of ${choices.join(', ')}, comma-separated (got "${raw}").`);
  return [...new Set(names as T[])];
}

if (require.main === module) {
  process.env.LOG_LEVEL ??= 'warn';
  const workloadNames = workloads.map((w) => w.name);
  runAsMain(() =>
    runGatewayQueries({
      members: numberArg('members', 50),
      seconds: numberArg('seconds', 10),
      warmSeconds: numberArg('warm-seconds', 3, { min: 0 }),
      connections: numberArg('connections', 50),
      rounds: numberArg('rounds', 2),
      gateways: listArg('gateways', gatewayNames, gatewayNames),
      workloads: listArg('workloads', workloadNames, workloadNames),
      waitForWindows: choiceArg('wait-for-windows', ['yes', 'no'] as const, 'yes') === 'yes',
    }),
  );
}
