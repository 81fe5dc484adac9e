// Test runs and benchmarks keep apart on one shared RabbitMQ broker by virtual host: each gets a
// fresh vhost and runs the product with every production name (`events`, `events.dlx`,
// `membership.*` queues) inside it; deleting the vhost removes everything it declared. The vhost is
// made through the management HTTP API (`.ci/run` enables the plugin), or with `rabbitmqctl` where
// the API does not answer. No Jest here: benchmarks use it too.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The broker tests use: RABBITMQ_URL, or the local one. Its vhost part is replaced per run. */
export const BROKER_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';

/** Vhosts made by runs that crashed before deleting theirs are removed once older than this. */
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;
const PREFIX = 'test.';

export interface TestVhost {
  /** The vhost's name (`test.<label>.<created ms>.<random>`). */
  readonly name: string;
  /** BROKER_URL pointing at this vhost: give it to the product as RABBITMQ_URL. */
  readonly url: string;
  /** Delete the vhost with every exchange, queue and message in it (idempotent). */
  delete(): Promise<void>;
}

/** BROKER_URL (or `base`) with its vhost set to `vhost`. */
export function urlForVhost(vhost: string, base: string = BROKER_URL): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

interface Admin {
  readonly how: string;
  create(vhost: string, user: string): Promise<void>;
  remove(vhost: string): Promise<void>;
  list(): Promise<string[]>;
}

function managementApi(broker: URL): Admin {
  const base = process.env.RABBITMQ_MANAGEMENT_URL || `http://${broker.hostname}:15672`;
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(broker.username || 'guest')}:${decodeURIComponent(broker.password || 'guest')}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
      throw new Error(`${method} ${base}/api${path} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    }
    return response;
  };
  return {
    how: `the management API at ${base}`,
    create: async (vhost, user) => {
      await call('PUT', `/vhosts/${encodeURIComponent(vhost)}`, {});
      await call('PUT', `/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, { configure: '.*', write: '.*', read: '.*' });
    },
    remove: async (vhost) => {
      await call('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
    },
    list: async () => ((await (await call('GET', '/vhosts?columns=name')).json()) as { name: string }[]).map((v) => v.name),
  };
}

function rabbitmqctl(): Admin {
  const ctl = (...args: string[]) => run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 });
  return {
    how: 'rabbitmqctl',
    create: async (vhost, user) => {
      await ctl('add_vhost', vhost);
      await ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
    },
    remove: async (vhost) => {
      await ctl('delete_vhost', vhost).catch((error: { stderr?: string }) => {
        if (!/does not exist|no_such_vhost/i.test(String(error.stderr))) throw error;
      });
    },
    list: async () => (await ctl('list_vhosts', 'name')).stdout.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'name'),
  };
}

let chosen: Promise<Admin> | null = null;

/** The management API when it answers, else rabbitmqctl; fails naming both when neither works. */
function admin(): Promise<Admin> {
  chosen ??= (async () => {
    const broker = new URL(BROKER_URL);
    const api = managementApi(broker);
    let apiError: unknown;
    try {
      await api.list();
      return api;
    } catch (error) {
      apiError = error;
    }
    const ctl = rabbitmqctl();
    try {
      await ctl.list();
      return ctl;
    } catch (ctlError) {
      throw new Error(
        `Cannot manage RabbitMQ virtual hosts, which the tests need to stay apart on the broker: ${api.how} failed ` +
          `(${String(apiError)}) and so did rabbitmqctl (${String((ctlError as Error).message ?? ctlError)}). ` +
          'Enable the management plugin (`rabbitmq-plugins enable rabbitmq_management`, as .ci/run does) or run where rabbitmqctl works.',
      );
    }
  })();
  return chosen;
}

let sweptStale = false;

/** Delete vhosts earlier runs left behind (a killed run never reaches its afterAll). */
async function sweepStale(tool: Admin, now: number): Promise<void> {
  if (sweptStale) return;
  sweptStale = true;
  for (const name of await tool.list().catch(() => [] as string[])) {
    const created = Number(name.startsWith(PREFIX) ? name.split('.').at(-2) : NaN);
    if (Number.isFinite(created) && now - created > STALE_AFTER_MS) await tool.remove(name).catch(() => undefined);
  }
}

/** A fresh vhost on the shared broker, for one test file or one benchmark run. */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const tool = await admin();
  const now = Date.now();
  await sweepStale(tool, now);
  const safeLabel = label.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'run';
  const name = `${PREFIX}${safeLabel}.${now}.${randomUUID().slice(0, 8)}`;
  const user = decodeURIComponent(new URL(BROKER_URL).username || 'guest');
  await tool.create(name, user);
  let deleted: Promise<void> | null = null;
  return {
    name,
    url: urlForVhost(name),
    delete: () => (deleted ??= tool.remove(name)),
  };
}
