// Benchmark: GraphQL subscriptions through a gateway, on the product over RabbitMQ and the embedded
// store. Three kinds of process: this one runs the clients only (the load generator and the
// subscribers); the product (four subgraphs, outbox relay, consumers) runs in a child process, as
// `npm start` runs it (dist/bench/subscription-product.js; `--workers process` puts the relay and the
// consumers in a worker process, dist/scripts/worker.js, as a compose deployment does); each gateway
// under test runs in a child process of its own (ours, then Hive Gateway on the same supergraph and
// subgraphs), so its memory is its own and both are treated alike. Per gateway and per round:
//  a) latency: one subscriber per member on memberUpdated(id); updateMemberProfile mutations through
//     the gateway over HTTP at a fixed rate; latency = mutation sent -> its event's `next` received
//     (matched by cursor), measured over `--seconds` right after `--warm-seconds` of the same load
//     (whose figures are reported apart, as the cold start). Goals: p50 <= 10 ms, p99 <= 50 ms. Measured again at a lower rate, which
//     shows the pipeline's own latency when the (shared, two-core) machine is not saturated.
//  b) fan-out: N subscribers on one gateway watching one member; each event must reach
//     all of them; p99 delivery latency (goal <= 250 ms) and gateway memory per idle subscription.
// Both phases run per transport (`--transports`): graphql-ws, SSE (graphql-sse's distinct connections
// mode; Hive Gateway serves it too) and HTTP multipart (Apollo's protocol; ours only).
//   node dist/bench/subscription-latency.js [--rate 200] [--low-rate 50] [--seconds 10] [--warm-seconds 10] [--members 200]
//     [--subscribers 5000] [--fanout-events 10] [--rounds 2] [--gateways ours,hive] [--transports ws,sse,multipart]
//     [--workers in-process|process]
// Each phase reports the CPU it cost: our gateway's (or Hive's) process, the product's, the clients',
// the local RabbitMQ node's, and the machine's as a whole (how much of its cores the phase left).
// BENCH_LATENCY_DUMP=<file> appends each measured mutation's send time (ms since the epoch), round
// trip and latency (ms) to <file>, one line each: when the slow ones happened, to set beside the
// processes' GC traces.
import 'reflect-metadata';
import fs from 'node:fs';
import { NODE_FLAGS } from '../platform/node-flags';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { createBackends, type Backends } from '../messaging/backends';
import { fork, type ChildProcess } from 'node:child_process';
import { eventMonitorSnapshot } from '../messaging/monitor/event-monitor';
import { formatCursor } from '../platform/subscription-protocol';
import { GATEWAY_IDENTITY_HEADER, mintClientToken, signForwardedIdentity } from '../platform/auth';
import { loadConfig, type Config } from '../platform/config';
import { arg, choiceArg, machine, numberArg, percentile, runAsMain } from './report';
import { onFreshVhost } from './broker';
import type { ProductReady } from './subscription-product';
import { productReady, stopProduct } from './product-child';
import { Arrivals, closeSubscribers, openSubscribers, problemsOf, TRANSPORTS, updateProfile, type Transport } from './subscription-clients';
import { cpuPressureSeconds, hiveInstalled, localBrokerPid, machineBusySeconds, machineStolenSeconds, processCpuSeconds, repoRoot, startTarget, type GatewayKind, type GatewayTarget } from './subscription-targets';

export interface SubscriptionLatencyOptions {
  readonly rabbitmqUrl: string;
  /** Mutations per second in the latency phase. */
  readonly rate: number;
  /** A second latency phase at this lower rate (0: none), to show the latency of an unsaturated box. */
  readonly lowRate: number;
  readonly seconds: number;
  /** Seconds of the same load, unmeasured, right before each latency measurement. */
  readonly warmSeconds: number;
  /** Members (one subscriber each) the latency phase spreads its mutations over. */
  readonly members: number;
  /** Concurrent WebSocket subscribers in the fan-out phase. */
  readonly subscribers: number;
  /** Events sent (one after the other) to all fan-out subscribers. */
  readonly fanOutEvents: number;
  /** Each gateway is measured this many times, alternating (the machine is shared). */
  readonly rounds: number;
  readonly gateways: readonly GatewayKind[];
  /** The transports subscribers use (Hive Gateway is measured on ws and sse only). */
  readonly transports: readonly Transport[];
  /** Run the outbox relay and the consumers in a worker process of their own, as deployed. */
  readonly workerProcess: boolean;
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function summary(values: number[]): Latency {
  values.sort((a, b) => a - b);
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) };
}

const MiB = 2 ** 20;
const round1 = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A RabbitMQ node on this machine (found once): its CPU is part of what a phase costs. */
let brokerPid: number | null | undefined;

/**
 * CPU seconds used during a phase: the gateway's process, the product's, the workers', this one's
 * (clients), the local RabbitMQ node's (when there is one), and the whole machine's (every core:
 * of `machineCores` times the phase's seconds, how much was left), with the part of it the
 * hypervisor took (stolen) and how long runnable tasks waited for a core (CPU pressure).
 */
function cpuMeter(target: GatewayTarget, product: Product) {
  brokerPid ??= localBrokerPid();
  const broker = brokerPid;
  const gateway0 = target.cpuSeconds();
  const product0 = processCpuSeconds(product.pid);
  const workers0 = product.workerPid === null ? 0 : processCpuSeconds(product.workerPid);
  const clients0 = processCpuSeconds(process.pid);
  const broker0 = broker === null ? 0 : processCpuSeconds(broker);
  const machine0 = machineBusySeconds();
  const stolen0 = machineStolenSeconds();
  const pressure0 = cpuPressureSeconds();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const machineBusy = machineBusySeconds() - machine0;
    const stolen = machineStolenSeconds() - stolen0;
    const pressure = cpuPressureSeconds() - pressure0;
    return {
      gatewaySeconds: round1(target.cpuSeconds() - gateway0),
      productSeconds: round1(processCpuSeconds(product.pid) - product0),
      ...(product.workerPid === null ? {} : { workerProcessSeconds: round1(processCpuSeconds(product.workerPid) - workers0) }),
      clientsSeconds: round1(processCpuSeconds(process.pid) - clients0),
      ...(broker === null ? {} : { brokerSeconds: round1(processCpuSeconds(broker) - broker0) }),
      ...(Number.isNaN(machineBusy) ? {} : { machineBusySeconds: round1(machineBusy), machineCores: os.cpus().length, phaseSeconds: round1(seconds) }),
      ...(Number.isNaN(stolen) ? {} : { machineStolenSeconds: Math.round(stolen * 100) / 100 }),
      ...(Number.isNaN(pressure) ? {} : { cpuWaitSeconds: Math.round(pressure * 100) / 100 }),
    };
  };
}

/** What the measurements need from the product (its process, and its store read from here). */
interface Product {
  readonly cfg: Config;
  /** This process's view of the product's store and bus, for reading only. */
  readonly backends: Backends;
  readonly subgraphUrls: Record<string, string>;
  readonly pid: number;
  /** The worker process, when the workers run in one of their own (null: in the product's process). */
  readonly workerPid: number | null;
  token(memberId: string): string;
  /** The cursor of a member's event at a stream version (to match deliveries to mutations). */
  cursorAt(memberId: string, version: number): Promise<string | null>;
  version(memberId: string): Promise<number>;
}

async function createMembers(memberUrl: string, cfg: Config, ids: readonly string[]): Promise<void> {
  const header = signForwardedIdentity({ sub: 'bench-admin', role: 'admin', expiresAt: null }, cfg.SUBGRAPH_SECRET);
  for (const id of ids) {
    const response = await fetch(memberUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [GATEWAY_IDENTITY_HEADER]: header },
      body: JSON.stringify({
        query: 'mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }',
        variables: { input: { id, email: `${id}@example.org`, firstName: 'Bench', lastName: 'Mark' } },
      }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`could not create member ${id}: ${JSON.stringify(body.errors)}`);
  }
}

/** A full GC of this process (the clients and the load generator), not of the processes measured. */
function collectOwnGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/**
 * Wait until the workers have caught up (every consumer's and follower's lag is 0), so a phase does
 * not pay for the previous one's backlog. Bounded; returns the seconds waited and what lag is left.
 */
async function settle(product: Product, timeoutMs = 120_000): Promise<{ seconds: number; lagLeft: number }> {
  const started = performance.now();
  let lag = Infinity;
  while (performance.now() - started < timeoutMs) {
    const snapshot = await eventMonitorSnapshot(product.backends);
    lag = snapshot.consumers.reduce((sum, c) => sum + c.lag, 0);
    if (lag === 0) break;
    await sleep(500);
  }
  return { seconds: round1((performance.now() - started) / 1000), lagLeft: lag };
}

/** One member's mutations, one at a time (each needs the version the previous one produced). */
class MemberWriter {
  private version = 0;
  private chain: Promise<void> = Promise.resolve();
  constructor(
    readonly memberId: string,
    private readonly token: string,
  ) {}

  async init(product: Product): Promise<void> {
    this.version = await product.version(this.memberId);
  }

  /** Send one update; resolves with the send time and the new version (null on failure). */
  update(url: string, label: string): Promise<{ sentAt: number; queuedMs: number; roundTripMs: number; version: number | null; error: string | null }> {
    const scheduled = performance.now();
    const run = this.chain.then(async () => {
      const sentAt = performance.now();
      const outcome = await updateProfile(url, this.token, this.memberId, this.version, label);
      const roundTripMs = performance.now() - sentAt;
      if (outcome.version !== null) this.version = outcome.version;
      return { sentAt, queuedMs: sentAt - scheduled, roundTripMs, ...outcome };
    });
    this.chain = run.then(() => undefined);
    return run;
  }
}

/** Send updates until one reaches `count` subscribers (they are then live end to end). */
async function warmUp(writer: MemberWriter, product: Product, url: string, arrivals: Arrivals, count: number, tries: number): Promise<number> {
  let lastError: string | null = null;
  for (let attempt = 1; attempt <= tries; attempt++) {
    const sent = await writer.update(url, `warm${attempt}`);
    if (sent.version === null) {
      // A failed mutation changes nothing; the next one still has the right expected version.
      lastError = sent.error;
      continue;
    }
    const cursor = await product.cursorAt(writer.memberId, sent.version);
    if (cursor && (await arrivals.waitFor(cursor, count, attempt < 3 ? 1000 : 5000))) return attempt;
  }
  throw new Error(`subscribers of ${writer.memberId} never all went live (${tries} warm-up events${lastError ? `; last failure: ${lastError}` : ''})`);
}

async function latencyPhase(product: Product, target: GatewayTarget, options: SubscriptionLatencyOptions & { rate: number }, memberIds: readonly string[], transport: Transport) {
  const settled = await settle(product);
  const arrivals = new Arrivals();
  const opened = await openSubscribers(
    target.url,
    memberIds.map((id) => ({ memberId: id, token: product.token(id) })),
    arrivals,
    { batch: 50, timeoutMs: 60_000, transport },
  );
  if (opened.failed > 0) throw new Error(`latency subscribers: ${opened.failed} failed (${opened.firstFailure})`);
  const writers = memberIds.map((id) => new MemberWriter(id, product.token(id)));
  await Promise.all(writers.map((w) => w.init(product)));
  await Promise.all(writers.map((w) => warmUp(w, product, target.url, arrivals, 1, 20)));
  arrivals.clear();
  // The load generator's own full GC, while nothing is in flight: otherwise the garbage of earlier
  // phases (5,000-subscriber fan-outs among them) was collected inside a later timed window, and
  // this process's pause stamped the events it held back as late (BENCHMARKS.md, machine O).
  collectOwnGarbage();

  const interval = 1000 / options.rate;
  type Sent = { memberId: string; sentAt: number; queuedMs: number; roundTripMs: number; version: number | null; error: string | null };
  let sequence = 0;
  /** Send `seconds` of mutations at the rate, round robin over the members; resolves with every answer. */
  const load = async (seconds: number) => {
    const total = Math.round(options.rate * seconds);
    const sends: Promise<Sent>[] = [];
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const writer = writers[sequence++ % writers.length] as MemberWriter;
      sends.push(writer.update(target.url, `L${sequence}`).then((r) => ({ memberId: writer.memberId, ...r })));
    }
    return { total, start, dispatched: performance.now(), sends };
  };
  // The same load, unmeasured, until the processes are warm (JIT, heap sizes, caches): the first
  // seconds of a fresh process at this rate are several times slower than the ones after.
  const warm = options.warmSeconds > 0 ? await load(options.warmSeconds) : null;
  const cpu = cpuMeter(target, product);
  const measured = await load(options.seconds);
  const total = measured.total;
  const dispatchSeconds = (measured.dispatched - measured.start) / 1000;
  const sent = await Promise.all(measured.sends);
  const sendSeconds = (performance.now() - measured.start) / 1000;
  const cpuUsed = cpu();
  const warmSent = warm ? await Promise.all(warm.sends) : [];
  // Every answered mutation's event (warm-up's included) arrives before the cursors are looked up.
  await arrivals.waitForTotal([...warmSent, ...sent].filter((x) => x.version !== null).length, 10_000);
  /** When an answered mutation's event reached its subscriber (undefined: it never did). */
  const arrivalOf = async (s: Sent & { version: number }) => {
    const cursor = await product.cursorAt(s.memberId, s.version);
    return cursor && (await arrivals.waitFor(cursor, 1, 10_000)) ? arrivals.times(cursor)[0] : undefined;
  };
  const latencies: number[] = [];
  const roundTrips: number[] = [];
  const sinceResponse: number[] = [];
  const dumpLines: string[] = [];
  let missing = 0;
  let failed = 0;
  let queued = 0;
  let firstError: string | null = null;
  for (const s of sent) {
    if (s.queuedMs > interval) queued++;
    if (s.version === null) {
      failed++;
      firstError ??= s.error;
      continue;
    }
    roundTrips.push(s.roundTripMs);
    const arrived = await arrivalOf({ ...s, version: s.version });
    if (arrived === undefined) missing++;
    else {
      latencies.push(arrived - s.sentAt);
      sinceResponse.push(arrived - s.sentAt - s.roundTripMs);
      if (process.env.BENCH_LATENCY_DUMP) dumpLines.push(`${(performance.timeOrigin + s.sentAt).toFixed(1)} ${s.roundTripMs.toFixed(1)} ${(arrived - s.sentAt).toFixed(1)}`);
    }
  }
  if (process.env.BENCH_LATENCY_DUMP) fs.appendFileSync(process.env.BENCH_LATENCY_DUMP, dumpLines.join('\n') + '\n');
  // The warm-up's own figures, reported apart (cold start), from the arrivals recorded meanwhile.
  let warmUpLoad: { seconds: number; mutations: number; failedMutations: number; missing: number; latencyMs: ReturnType<typeof summary> } | null = null;
  if (warm) {
    const warmLatencies: number[] = [];
    let warmFailed = 0;
    let warmMissing = 0;
    for (const s of warmSent) {
      if (s.version === null) {
        warmFailed++;
        continue;
      }
      const arrived = await arrivalOf({ ...s, version: s.version });
      if (arrived === undefined) warmMissing++;
      else warmLatencies.push(arrived - s.sentAt);
    }
    warmUpLoad = { seconds: options.warmSeconds, mutations: warm.total, failedMutations: warmFailed, missing: warmMissing, latencyMs: summary(warmLatencies) };
  }
  const problems = problemsOf(opened.subscribers);
  await closeSubscribers(opened.subscribers);
  const latency = summary(latencies);
  return {
    rate: options.rate,
    /** Waited before the phase for the workers' backlog to drain. */
    settled,
    /** The same load for `warmSeconds` right before the measured seconds, not in the figures below. */
    warmUp: warmUpLoad,
    mutations: total,
    /** Mutations dispatched per second (the offered rate, if this process kept up). */
    dispatchedRate: round1(total / dispatchSeconds),
    /** Mutations answered per second (from the first send to the last answer). */
    answeredRate: round1(total / sendSeconds),
    cpu: cpuUsed,
    delivered: latencies.length,
    missing,
    failedMutations: failed,
    ...(firstError ? { firstError } : {}),
    /** Sends that waited for the same member's previous mutation beyond their slot. */
    queuedBehindPrevious: queued,
    mutationRoundTripMs: summary(roundTrips),
    latencyMs: latency,
    /** Arrival after the mutation's answer (negative: the event beat the answer). */
    afterMutationAnswerMs: summary(sinceResponse),
    subscriptionProblems: problems,
    goals: { p50Ms: { goal: 10, met: latency.p50 <= 10 }, p99Ms: { goal: 50, met: latency.p99 <= 50 } },
  };
}

async function fanOutPhase(product: Product, target: GatewayTarget, options: SubscriptionLatencyOptions, memberId: string, transport: Transport) {
  const settled = await settle(product);
  const arrivals = new Arrivals();
  const token = product.token(memberId);
  const before = await target.memory();
  const opened = await openSubscribers(
    target.url,
    Array.from({ length: options.subscribers }, () => ({ memberId, token })),
    arrivals,
    { batch: 250, timeoutMs: 180_000, transport },
  );
  const count = opened.subscribers.length;
  const writer = new MemberWriter(memberId, token);
  await writer.init(product);
  let warmUpEvents: number | null = null;
  let warmUpError: string | null = null;
  try {
    warmUpEvents = await warmUp(writer, product, target.url, arrivals, count, 10);
  } catch (error) {
    warmUpError = (error as Error).message;
  }
  arrivals.clear();
  // Idle: every subscription open and live, nothing in flight.
  const idle = await target.memory();
  collectOwnGarbage();

  const latencies: number[] = [];
  const lastDelivery: number[] = [];
  const cpu = cpuMeter(target, product);
  let missing = 0;
  let failed = 0;
  if (warmUpError === null) {
    for (let e = 0; e < options.fanOutEvents; e++) {
      const sent = await writer.update(target.url, `F${e}`);
      if (sent.version === null) {
        failed++;
        continue;
      }
      const cursor = await product.cursorAt(memberId, sent.version);
      if (!cursor) {
        failed++;
        continue;
      }
      await arrivals.waitFor(cursor, count, 30_000);
      const times = arrivals.times(cursor);
      missing += count - times.length;
      for (const t of times) latencies.push(t - sent.sentAt);
      if (times.length > 0) lastDelivery.push(Math.max(...times) - sent.sentAt);
    }
  }
  const cpuUsed = cpu();
  const problems = problemsOf(opened.subscribers);
  await closeSubscribers(opened.subscribers);
  const latency = summary(latencies);
  return {
    settled,
    cpu: cpuUsed,
    subscribers: { requested: options.subscribers, open: count, failed: opened.failed, ...(opened.firstFailure ? { firstFailure: opened.firstFailure } : {}), openSeconds: round1(opened.seconds) },
    warmUpEvents,
    ...(warmUpError ? { warmUpError } : {}),
    events: options.fanOutEvents,
    failedMutations: failed,
    deliveries: latencies.length,
    missing,
    deliveryLatencyMs: latency,
    /** Per event: from the mutation to the last subscriber's delivery. */
    lastDeliveryMs: summary(lastDelivery),
    memory: {
      beforeMiB: { rss: round1(before.rss / MiB), heapUsed: round1(before.heapUsed / MiB) },
      idleMiB: { rss: round1(idle.rss / MiB), heapUsed: round1(idle.heapUsed / MiB) },
      perIdleSubscriptionKiB:
        count > 0
          ? { rss: round1((idle.rss - before.rss) / count / 1024), heapUsed: round1((idle.heapUsed - before.heapUsed) / count / 1024) }
          : null,
    },
    subscriptionProblems: problems,
    goals: { p99Ms: { goal: 250, met: latency.p99 <= 250 }, allDelivered: { met: missing === 0 && count === options.subscribers && warmUpError === null } },
  };
}

type Measurement =
  | {
      readonly gateway: GatewayKind;
      readonly transport: Transport;
      readonly latency: Awaited<ReturnType<typeof latencyPhase>>;
      readonly latencyAtLowRate: Awaited<ReturnType<typeof latencyPhase>> | null;
      readonly fanOut: Awaited<ReturnType<typeof fanOutPhase>> | null;
    }
  | { readonly gateway: GatewayKind; readonly transport: Transport; readonly error: string };

/** The transports a gateway is measured on: Hive Gateway serves graphql-ws and SSE, not Apollo's multipart. */
function transportsOf(kind: GatewayKind, transports: readonly Transport[]): Transport[] {
  return transports.filter((t) => kind === 'ours' || t !== 'multipart');
}

async function measure(
  kind: GatewayKind,
  product: Product,
  options: SubscriptionLatencyOptions,
  memberIds: readonly string[],
  fanMember: string,
  supergraphPath: string,
): Promise<Measurement[]> {
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    JWT_SECRET: product.cfg.JWT_SECRET,
    SUBGRAPH_SECRET: product.cfg.SUBGRAPH_SECRET,
    // Raised for the run: the fan-out phase holds more sockets than the default allows.
    WS_MAX_CONNECTIONS: String(options.subscribers + 1000),
    WS_KEEPALIVE_MS: '30000',
  };
  const out: Measurement[] = [];
  let target: GatewayTarget | null = null;
  try {
    target = await startTarget(kind, { subgraphUrls: product.subgraphUrls, env, supergraphPath });
    for (const transport of transportsOf(kind, options.transports)) {
      const tag = `[${kind} ${transport}]`;
      try {
        console.error(`${tag} latency: ${options.rate}/s for ${options.seconds} s after ${options.warmSeconds} s of warm-up, over ${memberIds.length} members`);
        const latency = await latencyPhase(product, target, options, memberIds, transport);
        const cold = latency.warmUp ? ` (warm-up: p50 ${latency.warmUp.latencyMs.p50} ms, p99 ${latency.warmUp.latencyMs.p99} ms)` : '';
        const { machineBusySeconds: busySeconds, phaseSeconds, machineCores, machineStolenSeconds: stolen, cpuWaitSeconds: waited } = latency.cpu;
        const busy = busySeconds === undefined || !phaseSeconds ? '' : `; the machine busy ${round1(busySeconds / phaseSeconds)} of ${machineCores} cores`;
        const contention = `${stolen === undefined ? '' : `, ${stolen} s stolen`}${waited === undefined ? '' : `, tasks waiting for a core ${waited} s`}`;
        console.error(`${tag} latency p50 ${latency.latencyMs.p50} ms, p99 ${latency.latencyMs.p99} ms${cold}${busy}${contention}`);
        const latencyAtLowRate = options.lowRate > 0 ? await latencyPhase(product, target, { ...options, rate: options.lowRate }, memberIds, transport) : null;
        if (latencyAtLowRate) console.error(`${tag} at ${options.lowRate}/s: p50 ${latencyAtLowRate.latencyMs.p50} ms, p99 ${latencyAtLowRate.latencyMs.p99} ms`);
        console.error(`${tag} fan-out to ${options.subscribers}`);
        const fanOut = options.subscribers > 0 ? await fanOutPhase(product, target, options, fanMember, transport) : null;
        if (fanOut) console.error(`${tag} fan-out p99 ${fanOut.deliveryLatencyMs.p99} ms, ${fanOut.subscribers.open} open`);
        out.push({ gateway: kind, transport, latency, latencyAtLowRate, fanOut });
      } catch (error) {
        console.error(`${tag} failed:`, error);
        out.push({ gateway: kind, transport, error: (error as Error).message });
      }
    }
  } catch (error) {
    console.error(`[${kind}] failed:`, error);
    for (const transport of transportsOf(kind, options.transports)) {
      if (!out.some((m) => m.transport === transport)) out.push({ gateway: kind, transport, error: (error as Error).message });
    }
  } finally {
    await target?.close();
  }
  return out;
}

function ratio(ours: number | undefined, hive: number | undefined): number | null {
  if (ours === undefined || hive === undefined || !Number.isFinite(ours) || !Number.isFinite(hive) || hive === 0) return null;
  return Math.round((ours / hive) * 100) / 100;
}

/** Ours / Hive per round and transport, on the figures the goals are about (below 1: ours is lower). */
function comparison(rounds: readonly Measurement[][]) {
  return rounds.flatMap((round) => TRANSPORTS.filter((t) => t !== 'multipart').map((transport) => {
    const ours = round.find((m) => m.gateway === 'ours' && m.transport === transport);
    const hive = round.find((m) => m.gateway === 'hive' && m.transport === transport);
    if (!ours || !hive || 'error' in ours || 'error' in hive) return null;
    return {
      transport,
      latencyP50: ratio(ours.latency.latencyMs.p50, hive.latency.latencyMs.p50),
      latencyP99: ratio(ours.latency.latencyMs.p99, hive.latency.latencyMs.p99),
      lowRateLatencyP50: ratio(ours.latencyAtLowRate?.latencyMs.p50, hive.latencyAtLowRate?.latencyMs.p50),
      lowRateLatencyP99: ratio(ours.latencyAtLowRate?.latencyMs.p99, hive.latencyAtLowRate?.latencyMs.p99),
      fanOutP99: ratio(ours.fanOut?.deliveryLatencyMs.p99, hive.fanOut?.deliveryLatencyMs.p99),
      memoryPerIdleSubscriptionRss: ratio(ours.fanOut?.memory.perIdleSubscriptionKiB?.rss, hive.fanOut?.memory.perIdleSubscriptionKiB?.rss),
      memoryPerIdleSubscriptionHeap: ratio(ours.fanOut?.memory.perIdleSubscriptionKiB?.heapUsed, hive.fanOut?.memory.perIdleSubscriptionKiB?.heapUsed),
      gatewayCpuLatencyPhase: ratio(ours.latency.cpu.gatewaySeconds, hive.latency.cpu.gatewaySeconds),
      gatewayCpuFanOutPhase: ratio(ours.fanOut?.cpu.gatewaySeconds, hive.fanOut?.cpu.gatewaySeconds),
    };
  }));
}

export async function runSubscriptionLatency(options: SubscriptionLatencyOptions) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-subscriptions-'));
  // Production names, in the run's own vhost (options.rabbitmqUrl, deleted by the caller).
  const cfg = loadConfig({
    DATA_DIR: dataDir,
    RABBITMQ_URL: options.rabbitmqUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    JWT_SECRET: `bench-jwt-${randomUUID()}`,
    SUBGRAPH_SECRET: `bench-subgraph-${randomUUID()}`,
    // The fan-out phase subscribes every connection upstream: keep buffers at their default.
  });
  let child: ChildProcess | null = null;
  let ready: ProductReady | null = null;
  let backends: Backends | null = null;
  // The supergraph with this run's subgraph URLs is what both gateways get (Hive reads a file).
  const supergraphPath = path.join(dataDir, 'supergraph.graphql');
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await backends?.close();
      if (child) await stopProduct(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    })());
  const interrupted = () => {
    console.error('interrupted: stopping the product');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    child = fork(path.join(__dirname, 'subscription-product.js'), [], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        RABBITMQ_URL: options.rabbitmqUrl,
        LOG_LEVEL: cfg.LOG_LEVEL,
        JWT_SECRET: cfg.JWT_SECRET,
        SUBGRAPH_SECRET: cfg.SUBGRAPH_SECRET,
        BENCH_WORKERS: options.workerProcess ? 'process' : 'in-process',
      },
      // With the V8 flags `npm start` gives the product's process (package.json, platform/node-flags.ts).
      // BENCH_PRODUCT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the product.
      execArgv: [...NODE_FLAGS, ...(process.env.BENCH_PRODUCT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')],
      // Its stdout goes to our stderr: our stdout carries the JSON result only.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    ready = await productReady(child);
    // Only to read the store: no follower here, so the product need not announce its appends to us,
    // and no checkpointer beside the product's (its WAL restarts would hold the product's commits).
    backends = await createBackends(cfg, undefined, { announcements: false, checkpoints: false });
    const subgraphUrls = ready.subgraphUrls;
    let sdl = fs.readFileSync(path.join(repoRoot, 'supergraph.graphql'), 'utf8');
    for (const [name, url] of Object.entries(subgraphUrls)) {
      sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${url}$2`);
    }
    fs.writeFileSync(supergraphPath, sdl);

    const run = randomUUID().slice(0, 6);
    const memberIds = Array.from({ length: options.members }, (_, i) => `bench-${run}-m${i}`);
    const fanMember = `bench-${run}-fan`;
    await createMembers(subgraphUrls.member as string, cfg, [...memberIds, fanMember]);
    const tokens = new Map<string, string>();
    const store = backends.store;
    const product: Product = {
      cfg,
      backends,
      subgraphUrls,
      pid: child.pid ?? -1,
      workerPid: ready.workerPid,
      token: (id) => {
        let token = tokens.get(id);
        if (!token) tokens.set(id, (token = mintClientToken({ sub: id, role: 'member' }, cfg.JWT_SECRET, { expiresInSeconds: 4 * 3600 })));
        return token;
      },
      version: (id) => store.streamVersion(`member-${id}`),
      cursorAt: async (id, version) => {
        const [event] = await store.readStream(`member-${id}`, version);
        return event && event.streamVersion === version ? formatCursor(event.position) : null;
      },
    };

    const gateways = options.gateways.filter((g) => g !== 'hive' || hiveInstalled());
    const rounds: Measurement[][] = [];
    for (let r = 0; r < options.rounds; r++) {
      const round: Measurement[] = [];
      for (const kind of gateways) round.push(...(await measure(kind, product, options, memberIds, fanMember, supergraphPath)));
      rounds.push(round);
    }
    return {
      benchmark: 'subscription-latency' as const,
      date: new Date().toISOString(),
      machine: machine(),
      settings: {
        rate: options.rate,
        lowRate: options.lowRate,
        seconds: options.seconds,
        warmSeconds: options.warmSeconds,
        members: options.members,
        subscribers: options.subscribers,
        fanOutEvents: options.fanOutEvents,
        rounds: options.rounds,
        transports: options.transports,
        workers: options.workerProcess ? 'a worker process of their own' : 'in the product process',
        bus: 'RabbitMQ',
        store: 'embedded SQLite',
        openFilesLimit: openFilesLimit(),
        ...(gateways.length < options.gateways.length ? { skipped: 'hive: not installed (npm ci --prefix bench/hive)' } : {}),
      },
      rounds,
      oursOverHive: gateways.includes('hive') && gateways.includes('ours') ? comparison(rounds) : null,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanup();
  }
}



/** `--gateways ours,hive` (the default): the gateways to measure, each named at most once. */
function gatewaysArg(): GatewayKind[] {
  const names = (arg('gateways') ?? 'ours,hive').split(',').map((g) => g.trim());
  const unknown = names.filter((g) => g !== 'ours' && g !== 'hive');
  if (unknown.length > 0 || names.length === 0) throw new Error(`--gateways must list ours and/or hive, comma-separated (got "${arg('gateways')}").`);
  return [...new Set(names as GatewayKind[])];
}

/** `--transports ws,sse,multipart` (the default): the transports subscribers use. */
function transportsArg(): Transport[] {
  const names = (arg('transports') ?? TRANSPORTS.join(',')).split(',').map((t) => t.trim());
  const unknown = names.filter((t) => !(TRANSPORTS as readonly string[]).includes(t));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--transports must list ws, sse and/or multipart, comma-separated (got "${arg('transports')}").`);
  return [...new Set(names as Transport[])];
}

function openFilesLimit(): string {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    return line ? line.replace(/\s+/g, ' ').replace('Max open files ', '').trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

if (require.main === module) {
  // The product logs to stdout, which carries the JSON result: warnings and errors only.
  process.env.LOG_LEVEL ??= 'warn';
  runAsMain(() =>
    onFreshVhost('subscriptions', (rabbitmqUrl) => runSubscriptionLatency({
      rabbitmqUrl,
      rate: numberArg('rate', 200),
      lowRate: numberArg('low-rate', 50, { min: 0 }),
      seconds: numberArg('seconds', 10),
      warmSeconds: numberArg('warm-seconds', 10, { min: 0 }),
      members: numberArg('members', 200),
      subscribers: numberArg('subscribers', 5000, { min: 0 }),
      fanOutEvents: numberArg('fanout-events', 10, { min: 0 }),
      rounds: numberArg('rounds', 2),
      gateways: gatewaysArg(),
      transports: transportsArg(),
      workerProcess: choiceArg('workers', ['in-process', 'process'] as const, 'in-process') === 'process',
    })),
  );
}
