// One process of the product (a subgraph, a worker, a gateway) run from the build output with an
// environment of the test's choosing, its log lines kept, killed or stopped at will. The deployment
// e2e starts the compose file's services this way; the cluster tier starts several of each.
import { spawn, type ChildProcess } from 'node:child_process';
import { repositoryRoot } from './compose';
import { parseLine, type LogLine } from './deployment';

export interface ProcessSpec {
  /** A label for logs and messages: `worker-a`, `gateway-b`, ... */
  readonly name: string;
  /** Node arguments: V8 flags, then the build entry (`dist/scripts/worker.js`). */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The port it serves /health (and the gateway /ready) on. */
  readonly port: number;
}

export interface ProductProcess {
  readonly spec: ProcessSpec;
  readonly child: ChildProcess;
  /** The exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  readonly alive: boolean;
  readonly url: string;
  /** The last lines it logged, for failure messages. */
  tail(lines?: number): string;
}

export function startProcess(spec: ProcessSpec, logs: LogLine[]): ProductProcess {
  const child = spawn(process.execPath, [...spec.args], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let alive = true;
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve(code ?? signal);
    }),
  );
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) if (text.trim() !== '') logs.push(parseLine(spec.name, text));
    });
  }
  return {
    spec,
    child,
    exited,
    get alive() {
      return alive;
    },
    url: `http://127.0.0.1:${spec.port}`,
    tail: (count = 30) =>
      logs
        .filter((l) => l.service === spec.name)
        .slice(-count)
        .map((l) => l.text)
        .join('\n'),
  };
}

/** Resolves once `path` answers 200; fails early, with its last lines, if the process exits. */
export async function untilAnswers(proc: ProductProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (!proc.alive) throw new Error(`${proc.spec.name} exited before ${path} answered:\n${proc.tail()}`);
    try {
      const response = await fetch(`${proc.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`${proc.spec.name}: ${path} did not answer 200 within ${timeoutMs} ms (${last}):\n${proc.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
export async function stopProcess(proc: ProductProcess, graceMs = 20_000): Promise<number | NodeJS.Signals | null> {
  if (!proc.alive) return proc.exited;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}
