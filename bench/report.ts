// Shared bits of the benchmarks: the machine they ran on, percentiles, command-line options, the
// entry point, a free port, a worker process.
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { NODE_FLAGS } from '../platform/node-flags';

export function machine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string } {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Nearest-rank percentile of an ascending array, rounded to 0.01. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? NaN) * 100) / 100;
}

/** A free TCP port on loopback, for a process a benchmark starts. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface WorkerProcess {
  readonly pid: number;
  /** The consumer queues it runs (from its /health), for the benchmark to delete afterwards. */
  readonly queues: readonly string[];
  stop(): Promise<void>;
}

/** A worker process (dist/scripts/worker.js) on the given settings, ready once its /health answers. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const port = await freePort();
  // BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the workers.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, path.join(__dirname, '..', 'scripts', 'worker.js')], {
    env: { ...process.env, ...env, WORKER_PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let queues: readonly string[] = [];
  for (let attempt = 0; ; attempt++) {
    const health = await fetch(`http://127.0.0.1:${port}/health`).then(
      async (r) => (r.ok ? ((await r.json()) as { consumers?: string[] }) : null),
      () => null,
    );
    if (health) {
      queues = health.consumers ?? [];
      break;
    }
    if (child.exitCode !== null || attempt > 300) throw new Error(`worker process did not start (exit code ${child.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    pid: child.pid ?? 0,
    queues,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The value after `--name` on the command line, if any. */
export function arg(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/**
 * `--name` as a number (the fallback when absent). Anything but a whole number of at least `min`
 * (default 1; or any finite number with `integer: false`) is refused with an error naming the
 * option: a typo must not run, or hang, a benchmark with NaN.
 */
export function numberArg(name: string, fallback: number, options: { min?: number; integer?: boolean } = {}): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const min = options.min ?? 1;
  const integer = options.integer ?? true;
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got "${raw}").`);
  }
  return value;
}

/** `--name` as one of `choices` (the fallback when absent); anything else is refused. */
export function choiceArg<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`--${name} must be one of ${choices.join(', ')} (got "${raw}").`);
  return raw as T;
}

/** Run a benchmark as a script: its result as JSON on stdout, exit 0; an error on stderr, exit 1. */
export function runAsMain(run: () => Promise<unknown>): void {
  // A bad option throws before any promise exists: it is reported the same way.
  Promise.resolve().then(run).then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
