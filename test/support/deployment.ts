// Starts the product as docker-compose.yml says, without Docker: every service built from the
// Dockerfile becomes one process, run with the service's own command (from the build output, as the
// image's WORKDIR holds it) and exactly the service's environment, interpolated from a host
// environment the caller gives (as `docker compose` reads the shell). Only what Docker itself
// would provide is translated:
//   - the network: `<service>:<port>` in URLs and healthchecks becomes 127.0.0.1 and a free port
//     (each service's port variable is set to it), so runs never collide;
//   - the backing services: `rabbitmq` becomes the test broker in a fresh virtual host (default
//     exchange and queue names inside), `mongodb` becomes MONGODB_URI when the caller has one, else
//     the embedded store in one data directory all processes share (as they would share MongoDB).
// Services start in dependency order; one waiting for another to be healthy waits until the other's
// own compose healthcheck command passes. Every log line is kept; error-level ones are reported.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConnectionString } from 'mongodb-connection-string-url';
import {
  builtServices,
  commandOf,
  dependenciesOf,
  environmentOf,
  interpolate,
  listenPortOf,
  readCompose,
  repositoryRoot,
  type Compose,
  type Service,
} from './compose';
import { freePort } from './ports';
import { createTestVhost, type TestVhost } from './rabbit-vhost';

const run = promisify(execFile);

export interface LogLine {
  readonly service: string;
  readonly level: number | null;
  readonly text: string;
  readonly json: Record<string, unknown> | null;
}

export interface RunningService {
  readonly name: string;
  readonly child: ChildProcess;
  readonly env: Readonly<Record<string, string>>;
  /** The port its port variable was given (null for a service without one). */
  readonly port: number | null;
  readonly exited: Promise<number | null>;
}

export interface Deployment {
  readonly services: ReadonlyMap<string, RunningService>;
  /** The gateway's GraphQL URL (http). */
  readonly gatewayUrl: string;
  /** The host environment compose interpolated (the secrets a user would export). */
  readonly hostEnv: Readonly<Record<string, string>>;
  readonly logs: readonly LogLine[];
  /** Log lines at error level or above (pino: 50 error, 60 fatal). */
  errors(): LogLine[];
  /** SIGTERM every service, dependents first; resolves with each exit code. */
  stop(): Promise<Record<string, number | null>>;
}

export interface DeploymentOptions {
  /** The host environment compose interpolates from (JWT_SECRET, SUBGRAPH_SECRET, ...). */
  readonly hostEnv: Readonly<Record<string, string>>;
  /** How long a service may take to become healthy. */
  readonly healthyWithinMs?: number;
  readonly composeFile?: string;
}

/** The services in an order that starts every dependency before its dependents. */
export function startOrder(compose: Compose, names: readonly string[]): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`docker-compose.yml: a dependency cycle through ${name}`);
    visiting.add(name);
    for (const dependency of Object.keys(dependenciesOf(compose.services[name] as Service))) {
      if (names.includes(dependency)) visit(dependency);
    }
    visiting.delete(name);
    order.push(name);
  };
  for (const name of names) visit(name);
  return order;
}

/** Replace `host:port` of compose's network with where the test runs it. */
function rewriteAddresses(text: string, addresses: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of addresses) out = out.split(from).join(to);
  return out;
}

function healthcheckCommand(service: Service): string[] | null {
  const test = service.healthcheck?.test;
  if (test === undefined || service.healthcheck?.disable) return null;
  if (typeof test === 'string') return ['sh', '-c', test];
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['sh', '-c', rest.join(' ')];
  return null;
}

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const compose = readCompose(options.composeFile);
  const built = new Map(builtServices(compose));
  const names = startOrder(compose, [...built.keys()]);
  const healthyWithinMs = options.healthyWithinMs ?? 60_000;

  // The network: each built service on a free port, reached at 127.0.0.1.
  const ports = new Map<string, number>();
  const addresses = new Map<string, string>();
  for (const [name, service] of built) {
    const listen = listenPortOf(service);
    if (!listen) continue;
    const port = await freePort();
    ports.set(name, port);
    addresses.set(`${name}:${listen.port}`, `127.0.0.1:${port}`);
    addresses.set(`127.0.0.1:${listen.port}/`, `127.0.0.1:${port}/`);
    addresses.set(`localhost:${listen.port}/`, `127.0.0.1:${port}/`);
  }

  // The backing services.
  const vhost: TestVhost = await createTestVhost('deployment');
  const mongoUri = process.env.MONGODB_URI || null;
  const dataDir = mongoUri ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'deployment-'));
  const mongoDatabase = `deployment_${randomUUID().slice(0, 8)}`;

  const logs: LogLine[] = [];
  const services = new Map<string, RunningService>();

  const environmentFor = (name: string, service: Service): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [variable, raw] of Object.entries(environmentOf(service))) {
      env[variable] = rewriteAddresses(interpolate(raw, options.hostEnv), addresses);
    }
    const listen = listenPortOf(service);
    if (listen) env[listen.variable] = String(ports.get(name));
    if (env.RABBITMQ_URL !== undefined) {
      const composed = new URL(env.RABBITMQ_URL);
      if (composed.hostname !== 'rabbitmq') throw new Error(`${name}: RABBITMQ_URL points at ${composed.hostname}, not the rabbitmq service`);
      env.RABBITMQ_URL = vhost.url;
    }
    if (env.MONGODB_URI !== undefined) {
      if (mongoUri) {
        // The driver's own parser: replica-set host lists and mongodb+srv as well as one host.
        const uri = new ConnectionString(mongoUri);
        uri.pathname = `/${mongoDatabase}`;
        env.MONGODB_URI = uri.toString();
      } else {
        delete env.MONGODB_URI;
        env.DATA_DIR = dataDir as string;
      }
    }
    // What the image's base provides besides compose's environment.
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...env };
  };

  const stopAll = async (): Promise<Record<string, number | null>> => {
    const codes: Record<string, number | null> = {};
    for (const name of [...services.keys()].reverse()) {
      const service = services.get(name) as RunningService;
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
      codes[name] = await service.exited;
    }
    await vhost.delete();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    return codes;
  };

  const waitHealthy = async (name: string): Promise<void> => {
    const service = built.get(name) as Service;
    const command = healthcheckCommand(service);
    if (!command) return;
    const [file, ...args] = command.map((part) => rewriteAddresses(part, addresses));
    const running = services.get(name) as RunningService;
    const deadline = Date.now() + healthyWithinMs;
    let last = '';
    for (;;) {
      if (running.child.exitCode !== null || running.child.signalCode !== null) {
        throw new Error(`${name} exited (${running.child.exitCode ?? running.child.signalCode}) before it was healthy:\n${outputOf(name)}`);
      }
      try {
        await run(file === 'node' ? process.execPath : (file as string), args, { timeout: 5_000 });
        return;
      } catch (error) {
        last = String((error as Error).message);
      }
      if (Date.now() > deadline) throw new Error(`${name} was not healthy within ${healthyWithinMs} ms (${last}):\n${outputOf(name)}`);
      // The healthcheck is a process of its own: wait for this one's end, then a short pause
      // before the next (compose's interval would be seconds).
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const outputOf = (name: string) =>
    logs
      .filter((l) => l.service === name)
      .map((l) => l.text)
      .slice(-40)
      .join('\n');

  try {
    for (const name of names) {
      const service = built.get(name) as Service;
      // Compose waits for the dependencies to be healthy (MongoDB and RabbitMQ are stood in for).
      for (const [dependency, condition] of Object.entries(dependenciesOf(service))) {
        if (condition === 'service_healthy' && built.has(dependency)) await waitHealthy(dependency);
      }
      const [program, ...args] = commandOf(service);
      if (program !== 'node') throw new Error(`${name}: its command starts with ${program}, not node`);
      const env = environmentFor(name, service);
      const child = spawn(process.execPath, args, { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream?.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const text of lines) if (text.trim() !== '') logs.push(parseLine(name, text));
        });
      }
      services.set(name, { name, child, env, port: ports.get(name) ?? null, exited });
    }
    for (const name of names) await waitHealthy(name);
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  const gatewayPort = ports.get('gateway');
  if (gatewayPort === undefined) throw new Error('docker-compose.yml has no gateway service with a port');
  return {
    services,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
    hostEnv: options.hostEnv,
    logs,
    errors: () => logs.filter((l) => l.level !== null && l.level >= 50),
    stop: stopAll,
  };
}

function parseLine(service: string, text: string): LogLine {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    return { service, text, json, level: typeof json.level === 'number' ? json.level : null };
  } catch {
    return { service, text, json: null, level: null };
  }
}
