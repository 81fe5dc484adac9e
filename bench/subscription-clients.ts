// Client side of the subscription benchmark: subscribers on `memberUpdated(id)` over graphql-ws,
// SSE (graphql-sse's distinct connections mode, which Hive Gateway serves too) or HTTP multipart
// (Apollo's protocol), that timestamp each event by its cursor (so a delivery is matched to the
// mutation that caused it, not guessed by order), opened in bounded batches; and the mutation that
// feeds them, over HTTP.
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Agent, request } from 'undici';

/** The load generator's HTTP client: undici's pool on keep-alive connections, far cheaper per request
 * than Node's own fetch (web streams) or node-fetch, so the client steals less of the shared two cores. */
// Idle connections are closed by the client after 4 s, before a server on Node's default
// keepAliveTimeout (5 s) would close them: a request sent on a socket the server is closing fails
// with ECONNRESET (19 of 2,000 mutations did, in a round that followed an idle pause).
const keepAlive = new Agent({ keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000 });

export const MEMBER_UPDATED = 'subscription Bench($id: ID!) { memberUpdated(id: $id) { cursor eventType member { id lastName } } }';
const UPDATE_PROFILE =
  'mutation Bench($id: ID!, $input: UpdateMemberProfileInput!, $v: Int!) { updateMemberProfile(id: $id, input: $input, expectedVersion: $v) { id version } }';

/** Arrival times (performance.now()) of events by cursor, shared by the subscribers of one phase. */
export class Arrivals {
  /** cursor -> arrival time of each subscriber that received it. */
  private readonly byCursor = new Map<string, number[]>();
  private readonly waiters = new Map<string, { count: number; resolve: () => void }[]>();
  /** Deliveries recorded since the last clear, and who waits for a number of them. */
  private total = 0;
  private totalWaiter: { count: number; resolve: () => void } | null = null;

  record(cursor: string, at: number): void {
    let times = this.byCursor.get(cursor);
    if (!times) this.byCursor.set(cursor, (times = []));
    times.push(at);
    this.total++;
    if (this.totalWaiter && this.total >= this.totalWaiter.count) {
      this.totalWaiter.resolve();
      this.totalWaiter = null;
    }
    const waiting = this.waiters.get(cursor);
    if (!waiting) return;
    for (const waiter of [...waiting]) {
      if (times.length >= waiter.count) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  times(cursor: string): readonly number[] {
    return this.byCursor.get(cursor) ?? [];
  }

  /** True once `count` subscribers got the event, false if that took longer than `timeoutMs`. */
  waitFor(cursor: string, count: number, timeoutMs: number): Promise<boolean> {
    if (this.times(cursor).length >= count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(cursor);
        if (list) list.splice(list.indexOf(waiter), 1);
        resolve(false);
      }, timeoutMs);
      let list = this.waiters.get(cursor);
      if (!list) this.waiters.set(cursor, (list = []));
      list.push(waiter);
    });
  }

  /**
   * Resolves once `count` deliveries were recorded since the last clear, or after `timeoutMs`. A
   * phase waits for this before its own bookkeeping, which would otherwise hold up this process's
   * event loop while the last events arrive, and late-stamp them.
   */
  waitForTotal(count: number, timeoutMs: number): Promise<void> {
    if (this.total >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.totalWaiter = null;
        resolve();
      }, timeoutMs);
      this.totalWaiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  clear(): void {
    this.byCursor.clear();
    this.total = 0;
  }
}

/** How subscribers subscribe: graphql-ws, SSE or HTTP multipart. */
export type Transport = 'ws' | 'sse' | 'multipart';
export const TRANSPORTS: readonly Transport[] = ['ws', 'sse', 'multipart'];

export interface Subscriber {
  close(): Promise<void>;
  /** Errors and unexpected completions seen on this subscription. */
  readonly problems: string[];
}

/** HTTP subscription streams: as many connections as subscribers, idle bodies never time out. */
const streams = new Agent({ connections: null, pipelining: 1, bodyTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000 });

const ACCEPT: Record<Exclude<Transport, 'ws'>, string> = {
  sse: 'text/event-stream',
  multipart: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json',
};

/**
 * One subscription over SSE or multipart, read with undici (lighter per stream than fetch's web
 * streams, so the load generator takes less of the shared cores). Each message's result is parsed
 * for its cursor when it arrives.
 */
async function openHttpSubscriber(url: string, transport: Exclude<Transport, 'ws'>, spec: { token: string; memberId: string }, arrivals: Arrivals): Promise<Subscriber | string> {
  const controller = new AbortController();
  const problems: string[] = [];
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      dispatcher: streams,
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: ACCEPT[transport], authorization: `Bearer ${spec.token}` },
      body: JSON.stringify({ query: MEMBER_UPDATED, variables: { id: spec.memberId } }),
    });
  } catch (error) {
    return `request failed: ${(error as Error).message}`;
  }
  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    return `HTTP ${response.statusCode}: ${text.slice(0, 200)}`;
  }
  const separator = transport === 'sse' ? '\n\n' : '\r\n--graphql';
  const onMessage = (message: string, at: number) => {
    let json: string;
    if (transport === 'sse') {
      const data = message.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart());
      if (data.length === 0) return; // a keep-alive comment, or `complete`
      json = data.join('\n');
    } else {
      const body = message.indexOf('\r\n\r\n');
      if (body === -1) return; // the preamble, or the closing `--`
      json = message.slice(body + 4);
    }
    try {
      const parsed = JSON.parse(json) as { payload?: unknown; data?: { memberUpdated?: { cursor?: string } }; errors?: unknown };
      const result = (transport === 'multipart' ? parsed.payload : parsed) as { data?: { memberUpdated?: { cursor?: string } }; errors?: unknown } | undefined;
      if (transport === 'multipart' && parsed.payload === undefined) return; // a heartbeat `{}`
      const cursor = result?.data?.memberUpdated?.cursor;
      if (cursor) arrivals.record(cursor, at);
      else if (json !== '') problems.push(`next without data: ${json}`.slice(0, 300));
    } catch {
      problems.push(`unparsable message: ${json.slice(0, 200)}`);
    }
  };
  const reading = (async () => {
    let buffer = '';
    response.body.setEncoding('utf8');
    try {
      for await (const chunk of response.body as AsyncIterable<string>) {
        const at = performance.now();
        buffer += chunk;
        for (let i = buffer.indexOf(separator); i >= 0; i = buffer.indexOf(separator)) {
          onMessage(buffer.slice(0, i), at);
          buffer = buffer.slice(i + separator.length);
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) problems.push(`stream failed: ${(error as Error).message}`);
    }
  })();
  return {
    problems,
    close: async () => {
      controller.abort();
      await reading;
    },
  };
}

export interface OpenResult {
  readonly subscribers: Subscriber[];
  readonly failed: number;
  readonly firstFailure: string | null;
  readonly seconds: number;
}

/**
 * Open one connection per spec and subscribe on it, `batch` connections at a time, each batch
 * waiting for its acknowledgements (graphql-ws) or response heads (SSE, multipart), bounded by
 * `timeoutMs` overall. `url`: the gateway's http(s) URL of /graphql.
 */
export async function openSubscribers(
  url: string,
  specs: readonly { token: string; memberId: string }[],
  arrivals: Arrivals,
  options: { batch: number; timeoutMs: number; transport?: Transport },
): Promise<OpenResult> {
  const transport = options.transport ?? 'ws';
  const wsUrl = url.replace(/^http/, 'ws');
  const started = performance.now();
  const subscribers: Subscriber[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  for (let i = 0; i < specs.length; i += options.batch) {
    if (performance.now() - started > options.timeoutMs) {
      failed += specs.length - i;
      firstFailure ??= `gave up opening after ${options.timeoutMs} ms`;
      break;
    }
    const opened = await Promise.all(
      specs.slice(i, i + options.batch).map((spec) =>
        transport !== 'ws'
          ? openHttpSubscriber(url, transport, spec, arrivals)
          : new Promise<Subscriber | string>((resolve) => {
            const problems: string[] = [];
            const timer = setTimeout(() => resolve('no connection_ack within 30 s'), 30_000);
            const client = createClient({
              url: wsUrl,
              webSocketImpl: WebSocket,
              lazy: false,
              retryAttempts: 0,
              // Idle subscribers only answer the server's pings: no client pings to add load.
              keepAlive: 0,
              // Closures are recorded below; graphql-ws would otherwise print each to the console.
              onNonLazyError: () => undefined,
              connectionParams: { authorization: `Bearer ${spec.token}` },
              on: {
                connected: () => {
                  clearTimeout(timer);
                  resolve({ problems, close: async () => void (await client.dispose()) });
                },
                closed: (event) => {
                  clearTimeout(timer);
                  const code = (event as { code?: number }).code;
                  problems.push(`closed ${code}`);
                  resolve(`closed ${code} before connection_ack`);
                },
                error: (error) => {
                  problems.push(String((error as Error)?.message ?? error));
                },
              },
            });
            client.subscribe<{ memberUpdated: { cursor: string } }>(
              { query: MEMBER_UPDATED, variables: { id: spec.memberId } },
              {
                next: (result) => {
                  const at = performance.now();
                  const cursor = result.data?.memberUpdated?.cursor;
                  if (cursor) arrivals.record(cursor, at);
                  else problems.push(`next without data: ${JSON.stringify(result.errors ?? result)}`.slice(0, 300));
                },
                error: (error) => problems.push(`error: ${JSON.stringify(error)}`.slice(0, 300)),
                complete: () => undefined,
              },
            );
          }),
      ),
    );
    for (const result of opened) {
      if (typeof result === 'string') {
        failed++;
        firstFailure ??= result;
      } else subscribers.push(result);
    }
  }
  return { subscribers, failed, firstFailure, seconds: (performance.now() - started) / 1000 };
}

export async function closeSubscribers(subscribers: readonly Subscriber[]): Promise<void> {
  for (let i = 0; i < subscribers.length; i += 500) {
    await Promise.all(subscribers.slice(i, i + 500).map((s) => s.close()));
  }
}

export function problemsOf(subscribers: readonly Subscriber[]): { count: number; sample: string[] } {
  const all = subscribers.flatMap((s) => s.problems).filter((p) => !p.startsWith('closed 1000'));
  return { count: all.length, sample: [...new Set(all)].slice(0, 3) };
}

export interface MutationOutcome {
  /** Stream version of the member after the change; null when the mutation failed. */
  readonly version: number | null;
  readonly error: string | null;
}

/** updateMemberProfile through the gateway over HTTP, as the member itself. */
export async function updateProfile(
  httpUrl: string,
  token: string,
  memberId: string,
  expectedVersion: number,
  lastName: string,
): Promise<MutationOutcome> {
  try {
    const response = await request(httpUrl, {
      dispatcher: keepAlive,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: UPDATE_PROFILE, variables: { id: memberId, input: { lastName }, v: expectedVersion } }),
    });
    const body = (await response.body.json()) as { data?: { updateMemberProfile?: { version: number } | null }; errors?: unknown[] };
    const version = body.data?.updateMemberProfile?.version;
    if (typeof version === 'number') return { version, error: null };
    return { version: null, error: `HTTP ${response.statusCode}: ${JSON.stringify(body.errors ?? body)}`.slice(0, 300) };
  } catch (error) {
    return { version: null, error: (error as Error).message };
  }
}
