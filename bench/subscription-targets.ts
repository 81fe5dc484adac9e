// The gateways the subscription benchmark measures, each in its own child process started with
// the memory probe preloaded: ours (dist/bench/subscription-gateway.js) and Hive Gateway (its CLI
// from bench/hive/node_modules, configured by dist/bench/hive/gateway.config.js).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { MemoryReply } from './subscription-probe';
import type { GatewayReady } from './subscription-gateway';
import { freePort } from './report';
import { NODE_FLAGS } from '../platform/node-flags';

export type GatewayKind = 'ours' | 'hive';

export interface GatewayMemory {
  readonly rss: number;
  readonly heapUsed: number;
}

export interface GatewayTarget {
  readonly kind: GatewayKind;
  /** HTTP and graphql-ws endpoint. */
  readonly url: string;
  readonly pid: number;
  /** Hive Gateway's worker processes now (0: it serves in its main process); null for ours. */
  workers(): number | null;
  /** The process's memory after a full GC. */
  memory(): Promise<GatewayMemory>;
  /** CPU time (user + system) the process and its children have used so far, in seconds (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** Environment the gateway's configuration is read from (secrets, WS limits, LOG_LEVEL). */
  readonly env: Readonly<Record<string, string>>;
  readonly supergraphPath: string;
  /**
   * Hive Gateway's worker processes: a number (1 in the subscription benchmark), or 'default' for
   * what its CLI picks on this machine when not told (as its users run it).
   */
  readonly hiveWorkers?: number | 'default';
}

const distBench = __dirname;

/** The repository: the first directory above the compiled bench holding the supergraph (any outDir works). */
function findRepoRoot(): string {
  for (let dir = distBench; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'supergraph.graphql')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
}

export const repoRoot = findRepoRoot();
export const hiveBin = path.join(repoRoot, 'bench', 'hive', 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');

export function hiveInstalled(): boolean {
  return fs.existsSync(hiveBin);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Ready when a trivial query answers 200 (bounded: a gateway that never starts fails the run). */
async function waitForGraphQL(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the gateway at ${url} was not ready within ${timeoutMs} ms`);
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds (clock ticks of 1/100 s on Linux). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The machine's CPU time by kind, in ticks summed over every core (Linux /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal, ...); null elsewhere. */
function machineCpuTicks(): number[] | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    return line.trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return null;
  }
}

/**
 * CPU seconds the whole machine has spent busy (every core; Linux /proc/stat: all but idle and
 * I/O wait), NaN elsewhere: beside the processes' own figures, how much of the machine a phase
 * left to everyone else.
 */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = machineCpuTicks() ?? [];
  return ((user ?? NaN) + (nice ?? NaN) + (system ?? NaN) + (irq ?? NaN) + (softirq ?? NaN) + (steal ?? NaN)) / 100;
}

/**
 * Time the machine's virtual CPUs were ready to run but the hypervisor ran something else (steal,
 * /proc/stat), in seconds summed over every core; NaN where unreported. Stolen time is charged to
 * whatever ran in the guest, so a phase with it shows more CPU for every process for the same work.
 */
export function machineStolenSeconds(): number {
  return (machineCpuTicks()?.[7] ?? NaN) / 100;
}

/**
 * Seconds during which at least one runnable task waited for a CPU (Linux pressure stall
 * information, /proc/pressure/cpu `some` total), NaN without PSI: how crowded the cores were.
 */
export function cpuPressureSeconds(): number {
  try {
    const some = /^some .*total=(\d+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? Number(some[1]) / 1e6 : NaN;
  } catch {
    return NaN;
  }
}

/** The pid of a RabbitMQ node running on this machine (its Erlang VM, `beam.smp`), or null. */
export function localBrokerPid(): number | null {
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'beam.smp') continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('rabbit')) return Number(entry);
    }
  } catch {
    // Not Linux, or /proc unreadable: no broker figure.
  }
  return null;
}

/** Children of a process (Linux: /proc/<pid>/task/<tid>/children), empty elsewhere. */
function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') out.push(...text.split(' ').map(Number));
    }
    return out;
  } catch {
    return [];
  }
}

/** CPU seconds of a process and all its live descendants (Hive Gateway's workers are child processes). */
export function processTreeCpuSeconds(pid: number): number {
  let total = processCpuSeconds(pid);
  for (const child of childrenOf(pid)) {
    const seconds = processTreeCpuSeconds(child);
    if (Number.isFinite(seconds)) total += seconds;
  }
  return total;
}

function wrap(kind: GatewayKind, child: ChildProcess, url: string): GatewayTarget {
  let nextId = 1;
  return {
    kind,
    url,
    pid: child.pid ?? -1,
    workers: () => (kind === 'hive' ? childrenOf(child.pid ?? -1).length : null),
    cpuSeconds: () => processTreeCpuSeconds(child.pid ?? -1),
    memory: () =>
      new Promise<GatewayMemory>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${kind} gateway did not report its memory`));
        }, 30_000);
        const onMessage = (message: unknown) => {
          const reply = message as Partial<MemoryReply>;
          if (reply.type !== 'bench:memory' || reply.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({ rss: reply.rss ?? NaN, heapUsed: reply.heapUsed ?? NaN });
        };
        child.on('message', onMessage);
        child.send({ type: 'bench:memory', id });
      }),
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}

export async function startTarget(kind: GatewayKind, options: TargetOptions): Promise<GatewayTarget> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...options.env,
    BENCH_SUBGRAPH_URLS: JSON.stringify(options.subgraphUrls),
    BENCH_PORT: String(port),
    BENCH_SUPERGRAPH: options.supergraphPath,
  };
  // BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the gateway under test.
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const probe = [...extra, '--expose-gc', '--require', path.join(distBench, 'subscription-probe.js')];
  // The child's stdout goes to our stderr: our stdout carries the JSON result only.
  const stdio: ['ignore', number, number, 'ipc'] = ['ignore', 2, 2, 'ipc'];
  if (kind === 'ours') {
    // Run as deployed: with the gateway's V8 flags (Hive Gateway runs with its own defaults).
    const child = spawn(process.execPath, [...NODE_FLAGS, ...probe, path.join(distBench, 'subscription-gateway.js')], { env, stdio });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('our gateway did not start within 60 s')), 60_000);
      child.once('exit', (code) => reject(new Error(`our gateway exited with ${code}`)));
      child.on('message', (message: unknown) => {
        const ready = message as Partial<GatewayReady>;
        if (ready.type === 'bench:ready' && typeof ready.url === 'string') {
          clearTimeout(timer);
          resolve(ready.url);
        }
      });
    });
    return wrap(kind, child, url);
  }
  if (!hiveInstalled()) throw new Error(`Hive Gateway is not installed (${hiveBin}): npm ci --prefix bench/hive`);
  const config = path.join(distBench, 'hive', 'gateway.config.js');
  const workers = options.hiveWorkers ?? 1;
  const child = spawn(
    process.execPath,
    [
      ...probe,
      hiveBin,
      'supergraph',
      options.supergraphPath,
      '--config-path',
      config,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      ...(workers === 'default' ? [] : ['--fork', String(workers)]),
    ],
    { env: { ...env, NODE_ENV: 'production' }, stdio },
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await waitForGraphQL(url, child, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return wrap(kind, child, url);
}
