// SSE and multipart subscriptions are the engine's, as graphql-ws ones are: the protocol on the
// wire (SSE ids, multipart parts and heartbeats), one upstream shared across transports, the same
// connection limit, token expiry, overflow with the cursor to resume from, and shutdown.
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../platform/clock';
import { startHarness, type Harness } from '../subscriptions/support/harness';
import { manualTimers } from '../subscriptions/support/manual-timers';
import { WIDE_SELECTION, wideSelectionLimits } from '../subscriptions/support/wide';
import { gatewayClient, subscribe as subscribeWs } from '../subscriptions/support/ws-client';
import { eventually } from '../support/wait';
import { RawStream, type StreamMessage } from './support/raw-stream';

const watch = (id: string, selection = 'eventType cursor member { id probe }') => `subscription { memberUpdated(id: "${id}") { ${selection} } }`;

type Kind = 'sse' | 'multipart';
const ACCEPT: Record<Kind, string> = { sse: 'text/event-stream', multipart: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json' };

function open(harness: Harness, kind: Kind, token: string | null, query: string, extra: { headers?: Record<string, string>; extensions?: Record<string, unknown>; gateway?: number } = {}): RawStream {
  return new RawStream(
    (harness.gateways[extra.gateway ?? 0] as Harness['gateways'][number]).url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT[kind], ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra.headers },
      body: JSON.stringify({ query, ...(extra.extensions ? { extensions: extra.extensions } : {}) }),
    },
    kind,
  );
}

/** The result an SSE `next` or a multipart part carries. */
function resultOf(message: StreamMessage): { data?: Record<string, unknown>; errors?: { message: string; extensions: Record<string, unknown> }[]; extensions?: { cursor?: string } } {
  const data = message.data ?? {};
  if (message.event === 'part') return ('payload' in data && data.payload ? data.payload : data) as never;
  return data as never;
}

/** Emit until the stream shows an event (it is live), then drain the warm-up; the last warm-up event's cursor. */
async function untilLive(harness: Harness, id: string, stream: RawStream): Promise<string> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const emitted = await harness.emit(id, 'member.created');
    const first = await stream.poll(50);
    if (!first) continue;
    const last = String(emitted.position);
    let cursor = resultOf(first).extensions?.cursor;
    while (cursor !== last) {
      const latest = String((await harness.emit(id, 'member.created')).position);
      for (let m = await stream.takeData('warm-up'); ; m = await stream.takeData('warm-up')) {
        cursor = resultOf(m).extensions?.cursor;
        if (cursor === latest) break;
      }
      return latest;
    }
    return last;
  }
  throw new Error('never went live');
}

describe.each<Kind>(['sse', 'multipart'])('%s subscriptions', (kind) => {
  let harness: Harness;
  const streams: RawStream[] = [];
  const track = (s: RawStream) => (streams.push(s), s);

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.abort();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('pushes each event with fields from two subgraphs and its cursor, framed as the protocol says', async () => {
    const id = `m-${randomUUID()}`;
    const stream = track(open(harness, kind, harness.token(id), watch(id)));
    const response = await stream.response;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(kind === 'sse' ? /^text\/event-stream/ : /^multipart\/mixed;boundary="graphql";subscriptionSpec="1.0"/);
    await untilLive(harness, id, stream);
    const event = await harness.emit(id, 'membership.renewed');
    const message = await stream.takeData('the renewal');
    const result = resultOf(message);
    expect(result.data).toEqual({ memberUpdated: { eventType: 'membership.renewed', cursor: String(event.position), member: { id, probe: `probe:${id}:for:${id}` } } });
    expect(result.extensions?.cursor).toBe(String(event.position));
    if (kind === 'sse') expect(message).toMatchObject({ event: 'next', id: String(event.position) });
    else expect(message.data).toHaveProperty('payload');
  });

  it('answers 401 UNAUTHENTICATED without a valid token', async () => {
    for (const token of [null, 'not-a-jwt']) {
      const response = await track(open(harness, kind, token, watch('m-1'))).response;
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });

  it('refuses a member watching another member with FORBIDDEN, from the subgraph', async () => {
    const stream = track(open(harness, kind, harness.token('m-1'), watch('m-2')));
    const message = await stream.takeData('the refusal');
    const errors = kind === 'sse' ? resultOf(message).errors : (message.data?.errors as { extensions: Record<string, unknown> }[]);
    expect(errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    if (kind === 'multipart') expect(message.data?.payload).toBeNull();
  });

  it('refuses an invalid document with the same coded errors as over WebSocket', async () => {
    const stream = track(open(harness, kind, harness.token('m-1'), 'subscription { memberUpdated(id: "m-1") { nope } }'));
    const response = await stream.response;
    if (kind === 'multipart') {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    } else {
      const message = await stream.takeData('the refusal');
      expect(resultOf(message).errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect((await stream.take('the completion')) as StreamMessage).toMatchObject({ event: 'complete' });
    }
  });
});

describe('one engine behind every transport', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('shares one upstream subscription among identical subscriptions over SSE, multipart and graphql-ws', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const query = watch(id);
    const sse = open(harness, 'sse', token, query);
    const multipart = open(harness, 'multipart', token, query);
    const ws = gatewayClient(harness.wsUrl(), { token });
    try {
      const overWs = subscribeWs(ws, { query });
      await eventually(() => harness.gateways[0]?.subscriptions.subscriptionCount === 3, 'three subscriptions at the gateway');
      expect(harness.gateways[0]?.subscriptions.upstreamSubscriptionCount).toBe(1);
      // The same metrics for every transport, labelled by it.
      const metrics = await (await fetch(new URL('/metrics', harness.gateways[0]?.url))).text();
      for (const transport of ['graphql-ws', 'sse', 'multipart']) {
        expect(metrics).toContain(`membership_gateway_subscriptions{transport="${transport}"} 1`);
        expect(metrics).toContain(`membership_gateway_subscription_connections{transport="${transport}"} 1`);
      }
      expect(metrics).toMatch(/^membership_gateway_upstream_subscriptions 1$/m);
      const live = await untilLive(harness, id, sse);
      const event = await harness.emit(id);
      expect(resultOf(await sse.takeData('the event over SSE')).extensions?.cursor).toBe(String(event.position));
      for (let m = await multipart.takeData('multipart'); resultOf(m).extensions?.cursor !== String(event.position); m = await multipart.takeData('multipart'));
      for (let m = await overWs.takeNext('ws'); m.cursor !== String(event.position); m = await overWs.takeNext('ws'));
      expect(Number(live)).toBeLessThan(event.position);
    } finally {
      sse.abort();
      multipart.abort();
      await ws.dispose();
    }
    await eventually(() => harness.gateways[0]?.subscriptions.upstreamSubscriptionCount === 0, 'the shared upstream to close once every client left');
  });
});

describe('limits, expiry and shutdown over HTTP', () => {
  it('counts SSE and multipart streams against the one connection limit', async () => {
    const harness = await startHarness({ gatewaySubscriptions: { limits: { maxConnections: 1 } } });
    try {
      const first = open(harness, 'sse', harness.token('m-1'), watch('m-1'));
      expect((await first.response).status).toBe(200);
      for (const kind of ['sse', 'multipart'] as const) {
        const refused = await open(harness, kind, harness.token('m-1'), watch('m-1')).response;
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('5');
      }
      first.abort();
      await eventually(() => harness.gateways[0]?.subscriptions.connectionCount === 0, 'the first stream to be let go');
      const again = open(harness, 'multipart', harness.token('m-1'), watch('m-1'));
      expect((await again.response).status).toBe(200);
      again.abort();
    } finally {
      await harness.close();
    }
  });

  it('sends a multipart heartbeat part every keep-alive interval while no event comes', async () => {
    const harness = await startHarness({ gatewaySubscriptions: { limits: { keepAliveMs: 100 } } });
    try {
      const stream = open(harness, 'multipart', harness.token('m-quiet'), watch('m-quiet'));
      // Two heartbeats in a row, and nothing else: `{}` parts, which clients skip.
      for (let i = 0; i < 2; i++) expect(await stream.take('a heartbeat')).toEqual({ event: 'part', data: {} });
      stream.abort();
    } finally {
      await harness.close();
    }
  });

  it.each<Kind>(['sse', 'multipart'])('ends a %s subscription with UNAUTHENTICATED when its token expires', async (kind) => {
    const clock = new ManualClock(new Date());
    const { timers, pending } = manualTimers();
    const harness = await startHarness({ gatewaySubscriptions: { clock, timers } });
    try {
      const id = `m-${randomUUID()}`;
      const token = harness.token(id, 'member', { nowSeconds: Math.floor(clock.now().getTime() / 1000), expiresInSeconds: 60 });
      const stream = open(harness, kind, token, watch(id));
      await untilLive(harness, id, stream);
      expect(pending).toHaveLength(1);
      clock.advance(61_000);
      pending.shift()?.();
      const ended = await stream.takeData('the expiry');
      const errors = kind === 'sse' ? resultOf(ended).errors : (ended.data?.errors as { extensions: Record<string, unknown> }[]);
      expect(errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await harness.close();
    }
  });

  it.each<Kind>(['sse', 'multipart'])('ends %s subscriptions as interrupted, with the cursor to resume from, when the gateway shuts down', async (kind) => {
    const harness = await startHarness();
    try {
      const id = `m-${randomUUID()}`;
      const stream = open(harness, kind, harness.token(id), watch(id));
      const last = await untilLive(harness, id, stream);
      const closing = harness.gateways[0]?.close();
      const ended = await stream.takeData('the interruption');
      const errors = kind === 'sse' ? resultOf(ended).errors : (ended.data?.errors as { extensions: Record<string, unknown> }[]);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'SUBSCRIPTION_INTERRUPTED', cursor: last });
      for (let item = await stream.take('the end'); item !== 'end'; item = await stream.take('the end'));
      await closing;
    } finally {
      await harness.close();
    }
  });
});

describe('a slow HTTP client', () => {
  let overflowed: ((cursor: string | null) => void) | null = null;
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      gatewayQueryLimits: wideSelectionLimits,
      gatewaySubscriptions: { limits: { bufferSize: 4 }, observer: { overflowed: (_id, cursor) => overflowed?.(cursor) } },
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  it.each<Kind>(['sse', 'multipart'])('over %s is told where to resume when its buffer overflows, after every event written', async (kind) => {
    const id = `m-${randomUUID()}`;
    const stream = open(harness, kind, harness.token(id), watch(id, `cursor ${WIDE_SELECTION}`));
    await untilLive(harness, id, stream);
    stream.pause();
    const overflow = new Promise<string | null>((resolve) => (overflowed = resolve));
    let done = false;
    void overflow.then(() => (done = true));
    for (let i = 0; i < 5000 && !done; i++) {
      await harness.emit(id);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await overflow;
    stream.resume();
    let lastCursor: string | undefined;
    for (;;) {
      const message = await stream.takeData('an event or the overflow notice');
      const errors = kind === 'sse' ? resultOf(message).errors : (message.data?.errors as { message: string; extensions: Record<string, unknown> }[] | undefined);
      if (errors) {
        expect(errors[0]?.extensions).toMatchObject({ code: 'SUBSCRIPTION_OVERFLOW', cursor: lastCursor });
        expect(errors[0]?.message).toMatch(/Resubscribe with extensions.cursor/);
        const metrics = await (await fetch(new URL('/metrics', harness.gateways[0]?.url))).text();
        expect(Number(/^membership_gateway_subscription_overflows_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
        break;
      }
      lastCursor = resultOf(message).extensions?.cursor;
    }
    stream.abort();
  }, 120_000);
});

describe("graphql-sse's single connection mode", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { limits: { maxSubscriptionsPerConnection: 1, connectionInitWaitTimeoutMs: 500 } } });
  });
  afterAll(async () => {
    await harness.close();
  });

  const url = () => (harness.gateways[0] as Harness['gateways'][number]).url;
  const reserve = async (token: string) => {
    const response = await fetch(url(), { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(201);
    return response.text();
  };
  const operation = (token: string, streamToken: string, operationId: string, query: string) =>
    fetch(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-graphql-event-stream-token': streamToken },
      body: JSON.stringify({ query, extensions: { operationId } }),
    });

  it('runs operations on their owner’s stream only, within the per-connection limit', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const streamToken = await reserve(token);
    const stream = new RawStream(url(), { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'x-graphql-event-stream-token': streamToken } }, 'sse');
    try {
      expect((await stream.response).status).toBe(200);
      // Someone else cannot add operations to it, or even learn it exists.
      expect((await operation(harness.token('intruder'), streamToken, 'x', watch('intruder'))).status).toBe(404);
      expect((await operation(token, streamToken, 'one', watch(id))).status).toBe(202);
      expect((await operation(token, streamToken, 'two', watch(id))).status).toBe(202);
      // The second is over the limit of one per connection: refused in the stream, for its id.
      const refused = await stream.takeData('the refusal of the second operation');
      expect(refused.data).toMatchObject({ id: 'two', payload: { errors: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', max: 1 } }] } });
      expect(await stream.takeData('its completion')).toEqual({ event: 'complete', data: { id: 'two' } });
      const emitted: string[] = [];
      for (let attempt = 1; ; attempt++) {
        if (attempt > 100) throw new Error('never went live');
        emitted.push(String((await harness.emit(id)).position));
        const message = await stream.poll(50);
        if (!message) continue;
        // The first event to arrive: any of those emitted so far (a slow machine delivers an earlier one late).
        expect(message).toMatchObject({ event: 'next', data: { id: 'one', payload: { data: { memberUpdated: { member: { id } } } } } });
        expect(emitted).toContain((message.data as { payload: { extensions: { cursor: string } } }).payload.extensions.cursor);
        expect(message.id).toBeUndefined(); // ids are per operation here: resume with extensions.cursor
        break;
      }
      // Completing it (DELETE) frees its place.
      expect((await fetch(`${url()}?operationId=one`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'x-graphql-event-stream-token': streamToken } })).status).toBe(200);
      await eventually(() => harness.gateways[0]?.subscriptions.subscriptionCount === 0, 'the completed operation to end');
      expect((await operation(token, streamToken, 'three', watch(id))).status).toBe(202);
      await eventually(() => harness.gateways[0]?.subscriptions.subscriptionCount === 1, 'the third operation to start');
    } finally {
      stream.abort();
    }
    await eventually(() => harness.gateways[0]?.subscriptions.subscriptionCount === 0, 'the stream’s operations to end with it');
  });

  it('forgets a reservation nobody connects to in time', async () => {
    const token = harness.token('m-late');
    const streamToken = await reserve(token);
    const connect = () =>
      fetch(url(), { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'x-graphql-event-stream-token': streamToken } });
    // Polled, not slept: the reservation goes once connectionInitWaitTimeoutMs (500 ms here) passed.
    const gone = await eventually(async () => {
      const response = await operation(token, streamToken, 'late', watch('m-late'));
      return response.status === 404 ? response : null;
    }, 'the reservation to be forgotten');
    expect(await gone.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    const late = await connect();
    expect(late.status).toBe(404);
    await late.body?.cancel();
  });
});
