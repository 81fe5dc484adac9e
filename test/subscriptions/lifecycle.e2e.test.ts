// A subscription's life through the gateway: resuming after a dropped connection (no gap, no
// duplicate), token expiry, limits, a slow consumer overflowing its buffer, and shutdown.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { ManualClock } from '../../platform/clock';
import { manualTimers } from './support/manual-timers';
import { WIDE_SELECTION, wideSelectionLimits } from './support/wide';
import { startHarness, type Harness } from './support/harness';
import { cursorsOf, waitUntilLive } from './support/live';
import { gatewayClient, RawClient, subscribe } from './support/ws-client';

const MEMBER_UPDATED = 'subscription Watch($id: ID!) { memberUpdated(id: $id) { eventType cursor member { id probe } } }';

describe('resuming, limits and shutdown', () => {
  let harness: Harness;
  const clients: Client[] = [];
  const client = (token: string) => {
    const c = gatewayClient(harness.wsUrl(), { token });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { limits: { maxSubscriptionsPerConnection: 2 } } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await harness.close();
  });

  it('resumes after a dropped connection from the last cursor: every missed event once, then live ones', async () => {
    const id = `m-${randomUUID()}`;
    const first = client(harness.token(id));
    const sub = subscribe(first, { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, sub);
    const seen = [await harness.emit(id), await harness.emit(id)];
    expect(await cursorsOf(sub, 2)).toEqual(seen.map((e) => String(e.position)));
    const cursor = String(seen[1]?.position);

    await first.dispose(); // the connection drops
    const missed = [await harness.emit(id, 'membership.renewed'), await harness.emit(id)];
    await harness.emit(`someone-else-${randomUUID()}`); // never shown to this member

    const again = subscribe(client(harness.token(id)), { query: MEMBER_UPDATED, variables: { id }, extensions: { cursor } });
    // Appended while the resume is replaying: delivered once, whichever way it arrives.
    const during = await harness.emit(id, 'membership.activated');
    expect(await cursorsOf(again, 3)).toEqual([...missed, during].map((e) => String(e.position)));
    const after = await harness.emit(id);
    const next = await again.takeNext('the first live event after the resume');
    expect(next.cursor).toBe(String(after.position));
    expect(next.data).toMatchObject({ memberUpdated: { member: { id, probe: `probe:${id}:for:${id}` } } });
    expect(again.pending).toBe(0);
  });

  it('refuses a third subscription on one connection with a clear error', async () => {
    const c = client(harness.token('m-limit'));
    const one = subscribe(c, { query: MEMBER_UPDATED, variables: { id: 'm-limit' } });
    const two = subscribe(c, { query: MEMBER_UPDATED, variables: { id: 'm-limit' } });
    await waitUntilLive(harness, 'm-limit', one);
    await two.takeNext('the second subscription being live');
    const three = subscribe(c, { query: MEMBER_UPDATED, variables: { id: 'm-limit' } });
    const refused = await three.take('the refusal');
    expect(refused).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', max: 2 } }] });
  });
});

describe('token expiry', () => {
  const clock = new ManualClock(new Date());
  const { timers, pending } = manualTimers();
  let harness: Harness;
  let c: Client;

  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { clock, timers } });
  });
  afterAll(async () => {
    await c?.dispose();
    await harness.close();
  });

  it('ends the subscription with UNAUTHENTICATED when the token expires', async () => {
    const id = `m-${randomUUID()}`;
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    c = gatewayClient(harness.wsUrl(), { token: harness.token(id, 'member', { nowSeconds, expiresInSeconds: 60 }) });
    const sub = subscribe(c, { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, sub);
    expect(pending).toHaveLength(1);

    pending.shift()?.(); // fired early (before expiry): re-arms, ends nothing
    await harness.emit(id);
    await sub.takeNext('an event before expiry');
    expect(pending).toHaveLength(1);

    clock.advance(61_000);
    pending.shift()?.();
    const ended = await sub.take('the expiry');
    expect(ended).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(ended.kind === 'error' && ended.errors[0]?.message).toMatch(/expired/);
    const refused = await subscribe(c, { query: MEMBER_UPDATED, variables: { id } }).take('a refusal after expiry');
    expect(refused).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});

describe('a slow consumer', () => {
  let overflowed: ((cursor: string | null) => void) | null = null;
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      gatewayQueryLimits: wideSelectionLimits,
      gatewaySubscriptions: {
        limits: { bufferSize: 4 },
        observer: { overflowed: (_id, cursor) => overflowed?.(cursor) },
      },
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('is told where to resume when its buffer overflows, and resuming from there loses nothing', async () => {
    const id = `m-${randomUUID()}`;
    const wide = WIDE_SELECTION;
    const raw = new RawClient(harness.wsUrl());
    await raw.opened;
    raw.send({ type: 'connection_init', payload: { token: harness.token(id) } });
    await raw.message('connection_ack');
    raw.send({ id: 's', type: 'subscribe', payload: { query: `subscription { memberUpdated(id: "${id}") { cursor ${wide} } }` } });
    // Live once a warm-up event comes back.
    for (let attempt = 0; ; attempt++) {
      if (attempt > 100) throw new Error('never went live');
      await harness.emit(id);
      const warm = await raw.poll(50);
      if (warm) {
        // Drain the rest of the warm-up: once the last one arrived, nothing older is in flight.
        const last = String((await harness.emit(id)).position);
        for (let m = warm; (m.payload as { extensions?: { cursor?: string } }).extensions?.cursor !== last; ) m = await raw.message('warm-up');
        break;
      }
    }
    // Stop reading, then produce until the gateway reports the overflow.
    raw.socket.pause();
    const overflow = new Promise<string | null>((resolve) => (overflowed = resolve));
    let done = false;
    void overflow.then(() => (done = true));
    const emitted: number[] = [];
    for (let i = 0; i < 5000 && !done; i++) {
      emitted.push((await harness.emit(id)).position);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await overflow;
    raw.socket.resume();

    let lastCursor: string | null = null;
    let error: Record<string, unknown> | null = null;
    while (!error) {
      const message = await raw.message('an event or the overflow notice');
      if (message.type === 'next') lastCursor = ((message.payload as { extensions?: { cursor?: string } }).extensions?.cursor ?? null);
      else if (message.type === 'error') error = message;
      else throw new Error(`unexpected ${JSON.stringify(message).slice(0, 200)}`);
    }
    const [notice] = error.payload as { message: string; extensions: { code: string; cursor: string } }[];
    expect(notice?.extensions.code).toBe('SUBSCRIPTION_OVERFLOW');
    expect(notice?.message).toMatch(/Resubscribe with extensions.cursor/);
    expect(notice?.extensions.cursor).toBe(lastCursor);

    // Resuming from the notice's cursor yields exactly the events after it. A backlog larger
    // than the buffer may overflow again, but each attempt moves a full buffer forward.
    const rest = emitted.filter((p) => p > Number(notice?.extensions.cursor));
    expect(rest.length).toBeGreaterThan(0);
    const received: string[] = [];
    let cursor = notice?.extensions.cursor;
    for (let attempt = 0; received.length < rest.length; attempt++) {
      if (attempt > rest.length) throw new Error('resuming made no progress');
      const resumed = gatewayClient(harness.wsUrl(), { token: harness.token(id) });
      const sub = subscribe(resumed, { query: MEMBER_UPDATED, variables: { id }, extensions: { cursor } });
      while (received.length < rest.length) {
        const message = await sub.take('a resumed event');
        if (message.kind === 'next') received.push(String(message.cursor));
        else if (message.kind === 'error' && message.errors[0]?.extensions?.code === 'SUBSCRIPTION_OVERFLOW') {
          cursor = String(message.errors[0]?.extensions?.cursor);
          expect(cursor).toBe(received[received.length - 1]);
          break;
        } else throw new Error(`unexpected ${JSON.stringify(message)}`);
      }
      await resumed.dispose();
    }
    expect(received).toEqual(rest.map(String));
    raw.socket.terminate();
  }, 120_000);
});

describe('connection limit and shutdown', () => {
  it('refuses connections beyond the limit and closes sockets with 1012 on shutdown', async () => {
    const harness = await startHarness({ gatewaySubscriptions: { limits: { maxConnections: 1 } } });
    try {
      const first = new RawClient(harness.wsUrl());
      await first.opened;
      const second = new RawClient(harness.wsUrl());
      const refused = await new Promise<number>((resolve) => second.socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      expect(refused).toBe(503);
      first.send({ type: 'connection_init', payload: { token: harness.token('m-1') } });
      await first.message('connection_ack');
      await harness.gateways[0]?.close();
      await expect(first.closed).resolves.toMatchObject({ code: 1012 });
    } finally {
      await harness.close();
    }
  });
});
