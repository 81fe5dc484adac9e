// A RabbitMQ cluster of the test's own on this machine: `rabbitmq-server` nodes with their own node
// names (`<run>-<n>@localhost`), AMQP and distribution ports, data and log directories (owned by
// the `rabbitmq` user, to which the server drops; all nodes share that user's Erlang cookie), their
// own config and plugin files (no management plugin), joined with `rabbitmqctl -n <node> stop_app /
// join_cluster / start_app`. Nodes are killed (SIGKILL, as a crashed machine) and started again at
// will; `stop` kills them all and deletes their directories. Every command names its node: the
// shared broker (rabbit@localhost on 5672, which other tests use) is never touched. Needs root or
// the rabbitmq user, as `rabbitmq-server` itself does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

const run = promisify(execFile);

const DIR_PREFIX = 'membership-rabbit-cluster-';

export interface ClusterNode {
  /** Erlang node name, e.g. `c1a2b3c4-2@localhost`. */
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:<port>`, as RABBITMQ_HOSTS takes it. */
  readonly host: string;
  readonly dir: string;
  readonly running: boolean;
}

export interface RabbitCluster {
  readonly nodes: readonly ClusterNode[];
  /** amqp://guest:guest@<first node>/ (give RABBITMQ_HOSTS too, so clients fail over). */
  readonly url: string;
  /** Every node as `host:port`. */
  readonly hosts: readonly string[];
  /** `rabbitmqctl -n <node> ...args`, its stdout. */
  ctl(node: ClusterNode, ...args: string[]): Promise<string>;
  /** SIGKILL the node's Erlang VM and wait until its port is closed. */
  kill(node: ClusterNode): Promise<void>;
  /** Start a killed node again; it rejoins the cluster. */
  restart(node: ClusterNode): Promise<void>;
  /** The node leading each quorum queue of `vhost`, asked of a running node. */
  leaders(vhost?: string): Promise<Map<string, string>>;
  /** The node each client connection is on, by connection name, asked of a running node. */
  connections(): Promise<{ name: string; node: string }[]>;
  /** The log lines of a node (for failure messages). */
  logOf(node: ClusterNode): string;
  /** Kill every node and delete their directories. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly size?: number;
  /** How long a node may take to boot (three at once on two cores take a while). */
  readonly bootTimeoutMs?: number;
}

interface NodeState {
  name: string;
  port: number;
  distPort: number;
  dir: string;
  child: ChildProcess | null;
  running: boolean;
}

function rabbitmqUser(): { uid: number; gid: number } {
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('rabbitmq:'));
  const [, , uid, gid] = passwd?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('There is no `rabbitmq` user: is RabbitMQ installed (the cluster tests start rabbitmq-server nodes)?');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  fs.chownSync(dir, owner.uid, owner.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, owner);
    else fs.chownSync(full, owner.uid, owner.gid);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The Erlang VM's pid, from the pid file the server writes when it boots. */
function vmPid(node: NodeState): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(node.dir, 'pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Kill a VM of ours: only when its environment names our node (a pid may have been reused). */
function killVm(pid: number, nodeName: string): void {
  try {
    if (!fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RABBITMQ_NODENAME=${nodeName}`)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** Resolves once something accepts connections on the port (or rejects after the deadline). */
async function untilListening(port: number, timeoutMs: number, what: string, died: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    const reason = died();
    if (reason) throw new Error(`${what} stopped before it listened: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function untilClosed(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`port ${port} still open ${timeoutMs} ms after the kill`);
}

/** Clusters of earlier runs whose test process died before stopping them (a killed run). */
function sweepStale(): void {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!entry.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), entry);
    const owner = Number(fs.readFileSync(path.join(dir, 'owner'), 'utf8').trim() || NaN);
    if (Number.isInteger(owner) && isAlive(owner)) continue;
    for (const node of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!node.isDirectory()) continue;
      const nodeDir = path.join(dir, node.name);
      const name = fs.existsSync(path.join(nodeDir, 'name')) ? fs.readFileSync(path.join(nodeDir, 'name'), 'utf8').trim() : '';
      const pid = vmPid({ dir: nodeDir } as NodeState);
      if (pid && name) killVm(pid, name);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function startRabbitCluster(options: ClusterOptions = {}): Promise<RabbitCluster> {
  const size = options.size ?? 3;
  const bootTimeoutMs = options.bootTimeoutMs ?? 120_000;
  const owner = rabbitmqUser();
  try {
    sweepStale();
  } catch {
    // A sweep is a courtesy; a run must not fail on another's leftovers.
  }
  const runId = `c${randomUUID().slice(0, 8)}`;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  fs.writeFileSync(path.join(base, 'owner'), String(process.pid));
  fs.chmodSync(base, 0o755);

  const nodes: NodeState[] = [];
  for (let i = 1; i <= size; i++) {
    const dir = path.join(base, `node${i}`);
    const port = await freePort();
    let distPort = await freePort();
    while (distPort === port) distPort = await freePort();
    fs.mkdirSync(path.join(dir, 'mnesia'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'log'), { recursive: true });
    // Its own config: one loopback listener, guest allowed (loopback only anyway), no management
    // plugin, and nothing read from /etc/rabbitmq (which configures the shared node).
    fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\nloopback_users = none\n`);
    fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    const name = `${runId}-${i}@localhost`;
    fs.writeFileSync(path.join(dir, 'name'), name);
    nodes.push({ name, port, distPort, dir, child: null, running: false });
  }
  chownTree(base, owner);

  const logs = new Map<string, string[]>();
  const launch = (node: NodeState): void => {
    const lines = logs.get(node.name) ?? [];
    logs.set(node.name, lines);
    try {
      fs.rmSync(path.join(node.dir, 'pid'), { force: true });
    } catch {
      // not there
    }
    const child = spawn('rabbitmq-server', [], {
      env: {
        ...process.env,
        RABBITMQ_NODENAME: node.name,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(node.port),
        RABBITMQ_DIST_PORT: String(node.distPort),
        RABBITMQ_MNESIA_BASE: path.join(node.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(node.dir, 'log'),
        RABBITMQ_PID_FILE: path.join(node.dir, 'pid'),
        RABBITMQ_CONFIG_FILE: path.join(node.dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(node.dir, 'enabled_plugins'),
        RABBITMQ_CONF_ENV_FILE: path.join(node.dir, 'rabbitmq-env.conf'),
        // One scheduler each: three nodes share two cores with the product and the test.
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        lines.push(...chunk.toString().split('\n').filter((l) => l.trim() !== ''));
        if (lines.length > 200) lines.splice(0, lines.length - 200);
      });
    }
    node.child = child;
    node.running = true;
    child.once('exit', () => {
      if (node.child === child) node.running = false;
    });
  };
  const died = (node: NodeState) => () => (node.child && node.child.exitCode !== null ? `exit ${node.child.exitCode}: ${(logs.get(node.name) ?? []).slice(-15).join('\n')}` : null);

  const ctl = async (node: { name: string }, ...args: string[]): Promise<string> => {
    const { stdout } = await run('rabbitmqctl', ['-n', node.name, ...args], { timeout: 120_000 });
    return stdout;
  };

  const view = (node: NodeState): ClusterNode => ({
    get name() {
      return node.name;
    },
    get port() {
      return node.port;
    },
    get host() {
      return `127.0.0.1:${node.port}`;
    },
    get dir() {
      return node.dir;
    },
    get running() {
      return node.running;
    },
  });
  const stateOf = (node: ClusterNode): NodeState => {
    const state = nodes.find((n) => n.name === node.name);
    if (!state) throw new Error(`${node.name} is not a node of this cluster`);
    return state;
  };

  const stop = async (): Promise<void> => {
    for (const node of nodes) {
      const pid = vmPid(node);
      if (pid) killVm(pid, node.name);
      node.child?.kill('SIGKILL');
      node.running = false;
    }
    for (const node of nodes) await untilClosed(node.port, 10_000).catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
  };

  try {
    for (const node of nodes) launch(node);
    await Promise.all(nodes.map((node) => untilListening(node.port, bootTimeoutMs, node.name, died(node))));
    const [first, ...others] = nodes;
    if (!first) throw new Error('a cluster needs a node');
    // One at a time, as RabbitMQ's clustering guide does it.
    for (const node of others) {
      await ctl(node, 'stop_app');
      await ctl(node, 'join_cluster', first.name);
      await ctl(node, 'start_app');
    }
    const members = await ctl(first, 'cluster_status', '--formatter', 'json');
    const running = (JSON.parse(members) as { running_nodes?: string[] }).running_nodes ?? [];
    if (running.length !== size) throw new Error(`the cluster formed with ${running.length} running nodes, not ${size}: ${members}`);
  } catch (error) {
    const detail = nodes.map((n) => `${n.name}:\n${(logs.get(n.name) ?? []).slice(-10).join('\n')}`).join('\n');
    await stop().catch(() => undefined);
    throw new Error(`Could not start a ${size}-node RabbitMQ cluster: ${(error as Error).message}\n${detail}`);
  }

  return {
    nodes: nodes.map(view),
    url: `amqp://guest:guest@127.0.0.1:${nodes[0]?.port}/`,
    hosts: nodes.map((n) => `127.0.0.1:${n.port}`),
    ctl,
    kill: async (node) => {
      const state = stateOf(node);
      const pid = vmPid(state);
      if (pid) killVm(pid, state.name);
      state.child?.kill('SIGKILL');
      state.running = false;
      await untilClosed(state.port, 30_000);
    },
    restart: async (node) => {
      const state = stateOf(node);
      launch(state);
      await untilListening(state.port, bootTimeoutMs, state.name, died(state));
    },
    leaders: async (vhost = '/') => {
      const alive = nodes.find((n) => n.running);
      if (!alive) throw new Error('no node is running');
      const out = await ctl(alive, 'list_queues', '-p', vhost, 'name', 'type', 'leader', '--no-table-headers', '--quiet');
      const leaders = new Map<string, string>();
      for (const line of out.split('\n')) {
        const [name, type, leader] = line.trim().split(/\s+/);
        if (name && type === 'quorum' && leader) leaders.set(name, leader);
      }
      return leaders;
    },
    connections: async () => {
      const alive = nodes.find((n) => n.running);
      if (!alive) throw new Error('no node is running');
      // The server port a connection came in on tells its node (each node listens on its own).
      const out = await ctl(alive, 'list_connections', 'port', 'client_properties', '--formatter', 'json');
      const rows = (JSON.parse(out) as { port: number; client_properties: unknown }[]).map((row) => ({
        ...row,
        node: nodes.find((n) => n.port === Number(row.port))?.name ?? `(port ${row.port})`,
      }));
      // client_properties come as a list of [key, type, value] (or an object, by version): the
      // connection_name's value is the string right after its key either way.
      return rows.map((row) => {
        const text = JSON.stringify(row.client_properties);
        const name = /"connection_name"(?:,"longstr")?[,:]"([^"]*)"/.exec(text)?.[1] ?? '';
        return { name, node: row.node };
      });
    },
    logOf: (node) => (logs.get(node.name) ?? []).join('\n'),
    stop,
  };
}
