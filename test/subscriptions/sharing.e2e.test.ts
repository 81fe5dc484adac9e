// Identical client subscriptions share one upstream subscription at the gateway: one subscribe on
// the member subgraph and one federated execution per event, fanned out to every client's own
// queue. Different identities and resumes get upstreams of their own; a slow client, an expired
// token or a client leaving affect only that client; the last one leaving closes the upstream.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { ManualClock } from '../../platform/clock';
import { manualTimers } from './support/manual-timers';
import type { RunningGateway } from '../../gateway/gateway-server';
import { eventually } from '../support/wait';
import { WIDE_SELECTION, wideSelectionLimits } from './support/wide';
import { startHarness, type Harness } from './support/harness';
import { cursorsOf, waitUntilLive } from './support/live';
import { gatewayClient, RawClient, subscribe, type Collector } from './support/ws-client';

const MEMBER_UPDATED = 'subscription Watch($id: ID!) { memberUpdated(id: $id) { eventType cursor member { id probe } } }';

function gatewayOf(harness: Harness): RunningGateway {
  return harness.gateways[0] as RunningGateway;
}

/** Every collector takes events up to and including `fence` (warm-up leftovers), and nothing else is pending. */
async function drainTo(subs: readonly Collector[], fence: number): Promise<void> {
  for (const sub of subs) {
    for (let n = await sub.takeNext('the fence'); n.cursor !== String(fence); n = await sub.takeNext('the fence'));
  }
}

describe('sharing one upstream subscription among identical client subscriptions', () => {
  const opened: string[] = [];
  let harness: Harness;
  const clients: Client[] = [];
  const client = (token: string) => {
    const c = gatewayClient(harness.wsUrl(), { token });
    clients.push(c);
    return c;
  };
  const upstreams = () => gatewayOf(harness).subscriptions.upstreamSubscriptionCount;

  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { observer: { upstreamOpened: (group) => opened.push(group) } } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    // Every test starts with no upstream open (the last client leaving closed it).
    await eventually(() => upstreams() === 0, 'every upstream subscription to close');
    opened.length = 0;
  });
  afterAll(async () => {
    await harness.close();
  });

  it('opens one upstream for 20 clients with the same operation and identity; each gets every event once, with its cursor', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const subs = Array.from({ length: 20 }, () => subscribe(client(token), { query: MEMBER_UPDATED, variables: { id } }));
    await eventually(() => gatewayOf(harness).subscriptions.subscriptionCount === 20, 'all 20 subscriptions at the gateway');
    await waitUntilLive(harness, id, subs[0] as Collector);
    await drainTo(subs, (await harness.emit(id)).position);
    expect(upstreams()).toBe(1);
    expect(opened).toHaveLength(1);

    const events = [];
    for (let i = 0; i < 10; i++) events.push(await harness.emit(id, i % 2 ? 'membership.renewed' : 'member.profile.updated'));
    const expected = events.map((e) => String(e.position));
    for (const sub of subs) {
      const got = [];
      for (let i = 0; i < expected.length; i++) got.push(await sub.takeNext(`event ${i + 1}`));
      expect(got.map((n) => n.cursor)).toEqual(expected);
      expect(got.map((n) => (n.data as { memberUpdated: { cursor: string } }).memberUpdated.cursor)).toEqual(expected);
      expect(got[0]?.data).toMatchObject({ memberUpdated: { eventType: 'member.profile.updated', member: { id, probe: `probe:${id}:for:${id}` } } });
    }
    // A closing fence: after it, no duplicate can still be in flight.
    const fence = await harness.emit(id);
    for (const sub of subs) {
      expect((await sub.takeNext('the closing fence')).cursor).toBe(String(fence.position));
      expect(sub.pending).toBe(0);
    }
    expect(upstreams()).toBe(1);
  });

  it('never shares between identities: an admin and the member itself get an upstream each, and both get the events', async () => {
    const id = `m-${randomUUID()}`;
    const own = subscribe(client(harness.token(id)), { query: MEMBER_UPDATED, variables: { id } });
    const admin = subscribe(client(harness.token('admin-1', 'admin')), { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, own);
    await waitUntilLive(harness, id, admin);
    await drainTo([own, admin], (await harness.emit(id)).position);
    expect(upstreams()).toBe(2);
    expect(opened).toHaveLength(2);

    const event = await harness.emit(id, 'membership.renewed');
    const toOwn = await own.takeNext('the event, for the member');
    const toAdmin = await admin.takeNext('the event, for the admin');
    expect([toOwn.cursor, toAdmin.cursor]).toEqual([String(event.position), String(event.position)]);
    // Each was fetched with its own identity (the probe subgraph says for whom).
    expect(toOwn.data).toMatchObject({ memberUpdated: { member: { probe: `probe:${id}:for:${id}` } } });
    expect(toAdmin.data).toMatchObject({ memberUpdated: { member: { probe: `probe:${id}:for:admin-1` } } });
  });

  it('gives a resuming subscription its own upstream and catch-up, with no gap and no duplicate, beside a live group', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const live = subscribe(client(token), { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, live);
    const before = await harness.emit(id);
    expect((await live.takeNext('the event before the resume')).cursor).toBe(String(before.position));
    const missed = [await harness.emit(id), await harness.emit(id, 'membership.renewed')];
    await cursorsOf(live, 2);

    const resumed = subscribe(client(token), { query: MEMBER_UPDATED, variables: { id }, extensions: { cursor: String(before.position) } });
    expect(await cursorsOf(resumed, 2)).toEqual(missed.map((e) => String(e.position)));
    expect(upstreams()).toBe(2);
    const after = await harness.emit(id);
    expect((await resumed.takeNext('the first live event after the catch-up')).cursor).toBe(String(after.position));
    expect((await live.takeNext('the same event, live')).cursor).toBe(String(after.position));
    expect(resumed.pending).toBe(0);
  });

  it('closes the upstream when the last client leaves, not before; a later client opens a new one', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const subs = [0, 1, 2].map(() => subscribe(client(token), { query: MEMBER_UPDATED, variables: { id } }));
    await eventually(() => gatewayOf(harness).subscriptions.subscriptionCount === 3, 'three subscriptions at the gateway');
    await waitUntilLive(harness, id, subs[0] as Collector);
    await drainTo(subs, (await harness.emit(id)).position);
    expect(upstreams()).toBe(1);

    subs[0]?.unsubscribe();
    subs[1]?.unsubscribe();
    await eventually(() => gatewayOf(harness).subscriptions.subscriptionCount === 1, 'two clients to leave');
    expect(upstreams()).toBe(1);
    const event = await harness.emit(id);
    expect((await subs[2]?.takeNext('an event for the one left'))?.cursor).toBe(String(event.position));

    subs[2]?.unsubscribe();
    await eventually(() => upstreams() === 0, 'the upstream to close with the last client');
    expect(opened).toHaveLength(1);

    const later = subscribe(client(token), { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, later);
    expect(upstreams()).toBe(1);
    expect(opened).toHaveLength(2);
  });
});

describe('a slow client in a shared group', () => {
  const overflows: { id: string; cursor: string | null }[] = [];
  let overflowed: (() => void) | null = null;
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      gatewayQueryLimits: wideSelectionLimits,
      gatewaySubscriptions: {
        limits: { bufferSize: 8 },
        observer: {
          overflowed: (id, cursor) => {
            overflows.push({ id, cursor });
            overflowed?.();
          },
        },
      },
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('overflows alone: it is told where to resume, the others keep receiving from the same upstream', async () => {
    const id = `m-${randomUUID()}`;
    const token = harness.token(id);
    const wide = WIDE_SELECTION;
    const query = `subscription Wide($id: ID!) { memberUpdated(id: $id) { cursor ${wide} } }`;
    const fastClient = gatewayClient(harness.wsUrl(), { token });
    const fast = subscribe(fastClient, { query, variables: { id } });
    await waitUntilLive(harness, id, fast);

    const slow = new RawClient(harness.wsUrl());
    await slow.opened;
    slow.send({ type: 'connection_init', payload: { token } });
    await slow.message('connection_ack');
    slow.send({ id: 'slow', type: 'subscribe', payload: { query, variables: { id } } });
    await eventually(() => gatewayOf(harness).subscriptions.subscriptionCount === 2, 'the slow client to join');
    const first = await harness.emit(id);
    expect((await fast.takeNext('the first shared event')).cursor).toBe(String(first.position));
    expect((await slow.message('the first shared event')).payload).toMatchObject({ extensions: { cursor: String(first.position) } });
    expect(gatewayOf(harness).subscriptions.upstreamSubscriptionCount).toBe(1);

    // The slow client stops reading; events go on, each taken by the fast client before the next.
    slow.socket.pause();
    const overflow = new Promise<void>((resolve) => (overflowed = resolve));
    let done = false;
    void overflow.then(() => (done = true));
    for (let i = 0; i < 5000 && !done; i++) {
      const event = await harness.emit(id);
      expect((await fast.takeNext('an event while the slow client falls behind')).cursor).toBe(String(event.position));
    }
    await overflow;
    expect(overflows.map((o) => o.id)).toEqual(['slow']);
    slow.socket.resume();

    let lastCursor: string | null = null;
    let error: Record<string, unknown> | null = null;
    while (!error) {
      const message = await slow.message('an event or the overflow notice');
      if (message.type === 'next') lastCursor = (message.payload as { extensions?: { cursor?: string } }).extensions?.cursor ?? null;
      else if (message.type === 'error') error = message;
      else throw new Error(`unexpected ${JSON.stringify(message).slice(0, 200)}`);
    }
    expect(error.payload).toMatchObject([{ extensions: { code: 'SUBSCRIPTION_OVERFLOW', cursor: lastCursor } }]);

    // The fast client is unaffected, on the same upstream.
    const after = await harness.emit(id);
    expect((await fast.takeNext('an event after the overflow')).cursor).toBe(String(after.position));
    expect(fast.pending).toBe(0);
    expect(gatewayOf(harness).subscriptions.upstreamSubscriptionCount).toBe(1);
    slow.socket.terminate();
    await fastClient.dispose();
  }, 60_000);
});

describe('token expiry in a shared group', () => {
  const clock = new ManualClock(new Date());
  const { timers, pending } = manualTimers();
  let harness: Harness;
  const clients: Client[] = [];

  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { clock, timers } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await harness.close();
  });

  it('ends only the subscription whose token expired', async () => {
    const id = `m-${randomUUID()}`;
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    const shortLived = gatewayClient(harness.wsUrl(), { token: harness.token(id, 'member', { nowSeconds, expiresInSeconds: 60 }) });
    const longLived = gatewayClient(harness.wsUrl(), { token: harness.token(id, 'member', { nowSeconds, expiresInSeconds: 3600 }) });
    clients.push(shortLived, longLived);
    const expiring = subscribe(shortLived, { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, expiring);
    const staying = subscribe(longLived, { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, staying);
    await drainTo([expiring, staying], (await harness.emit(id)).position);
    expect(gatewayOf(harness).subscriptions.upstreamSubscriptionCount).toBe(1);
    expect(pending).toHaveLength(2);

    clock.advance(61_000);
    pending.shift()?.(); // the short-lived token's timer (armed first)
    const ended = await expiring.take('the expiry');
    expect(ended).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });

    const event = await harness.emit(id);
    expect((await staying.takeNext('an event after the other token expired')).cursor).toBe(String(event.position));
    expect(gatewayOf(harness).subscriptions.upstreamSubscriptionCount).toBe(1);
  });
});

describe('the subgraph dropping a shared upstream', () => {
  it('interrupts every member, each with its own last cursor', async () => {
    const harness = await startHarness();
    const clients: Client[] = [];
    try {
      const id = `m-${randomUUID()}`;
      const token = harness.token(id);
      const open = () => {
        const c = gatewayClient(harness.wsUrl(), { token });
        clients.push(c);
        return subscribe(c, { query: MEMBER_UPDATED, variables: { id } });
      };
      const early = open();
      await waitUntilLive(harness, id, early);
      const seen = await harness.emit(id);
      expect((await early.takeNext('an event before the second client joins')).cursor).toBe(String(seen.position));
      // Joins the live group: it has been handed nothing yet, so it resumes from the start.
      const late = open();
      await eventually(() => gatewayOf(harness).subscriptions.subscriptionCount === 2, 'the second client to join');
      expect(gatewayOf(harness).subscriptions.upstreamSubscriptionCount).toBe(1);

      await harness.stopMember(0);
      const [toEarly, toLate] = [await early.take('the interruption'), await late.take('the interruption')];
      expect(toEarly).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'SUBSCRIPTION_INTERRUPTED', cursor: String(seen.position) } }] });
      expect(toLate).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'SUBSCRIPTION_INTERRUPTED', cursor: null } }] });
      await eventually(() => gatewayOf(harness).subscriptions.upstreamSubscriptionCount === 0, 'the upstream to be closed');
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
      await harness.close();
    }
  });
});
