// The per-connection subscription limit under a burst: subscribe messages sent back to back, with
// no wait between them, leave exactly the limit active and every other one refused with
// TOO_MANY_SUBSCRIPTIONS; a completed subscription frees its place.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { defaultSubscriptionLimits } from '../../gateway/subscriptions/subscription-server';
import { startHarness, type Harness } from './support/harness';
import { waitUntilLive } from './support/live';
import { gatewayClient, RawClient, subscribe } from './support/ws-client';
import { eventually } from '../support/wait';

const QUERY = 'subscription Watch($id: ID!) { memberUpdated(id: $id) { eventType } }';
const LIMIT = defaultSubscriptionLimits.maxSubscriptionsPerConnection;

describe('subscriptions per connection under a burst', () => {
  let harness: Harness;
  const clients: Client[] = [];
  const sockets: RawClient[] = [];

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.socket.terminate();
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await harness.close();
  });

  const gateway = () => harness.gateways[0]!.subscriptions;

  /** A member whose subscription (same document, variables and identity) is live upstream, so bursts join it. */
  async function liveMember(): Promise<string> {
    const member = `m-${randomUUID()}`;
    const probe = gatewayClient(harness.wsUrl(), { token: harness.token(member) });
    clients.push(probe);
    await waitUntilLive(harness, member, subscribe(probe, { query: QUERY, variables: { id: member } }));
    return member;
  }

  async function acknowledged(member: string): Promise<RawClient> {
    const raw = new RawClient(harness.wsUrl());
    sockets.push(raw);
    await raw.opened;
    raw.send({ type: 'connection_init', payload: { token: harness.token(member) } });
    await raw.message('connection_ack');
    return raw;
  }

  function sendBurst(raw: RawClient, member: string, ids: readonly string[]): void {
    for (const id of ids) raw.send({ id, type: 'subscribe', payload: { query: QUERY, variables: { id: member } } });
  }

  /** Take messages until every id answered once: refused (error) or active (its first event). */
  async function answers(raw: RawClient, ids: readonly string[]): Promise<{ refused: Set<string>; active: Set<string> }> {
    const refused = new Set<string>();
    const active = new Set<string>();
    while (refused.size + active.size < ids.length) {
      const message = await raw.message('a refusal or an event');
      const id = String(message.id);
      expect(refused.has(id) || active.has(id)).toBe(false);
      if (message.type === 'error') {
        expect(message.payload).toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', max: LIMIT } })]);
        refused.add(id);
      } else {
        expect(message.type).toBe('next');
        active.add(id);
      }
    }
    return { refused, active };
  }

  it.each([300, 2000])('leaves exactly the limit active when %i subscribes arrive back to back', async (count) => {
    const member = await liveMember();
    const raw = await acknowledged(member);
    const ids = Array.from({ length: count }, (_, i) => `burst-${i}`);
    sendBurst(raw, member, ids);
    // Every accepted subscription has joined the live upstream one (the probe is the +1) ...
    await eventually(() => gateway().subscriptionCount >= LIMIT + 1, 'the accepted subscriptions to start');
    // ... so one event reaches each of them, and every other id has been refused.
    await harness.emit(member);
    const { refused, active } = await answers(raw, ids);
    expect(active.size).toBe(LIMIT);
    expect(refused.size).toBe(count - LIMIT);
    expect(gateway().subscriptionCount).toBe(LIMIT + 1);
  });

  it('frees a place when a subscription completes, and only that place', async () => {
    const member = await liveMember();
    const raw = await acknowledged(member);
    const first = Array.from({ length: LIMIT }, (_, i) => `first-${i}`);
    sendBurst(raw, member, first);
    await eventually(() => gateway().subscriptionCount === LIMIT + 1, 'the first subscriptions to start');
    for (const id of first.slice(0, 5)) raw.send({ id, type: 'complete' });
    await eventually(() => gateway().subscriptionCount === LIMIT + 1 - 5, 'the completed subscriptions to end');
    const second = Array.from({ length: 10 }, (_, i) => `second-${i}`);
    sendBurst(raw, member, second);
    await eventually(() => gateway().subscriptionCount >= LIMIT + 1, 'the freed places to be taken');
    await harness.emit(member);
    const { refused, active } = await answers(raw, [...first.slice(5), ...second]);
    expect(refused.size).toBe(5);
    expect(active.size).toBe(LIMIT);
  });
});
