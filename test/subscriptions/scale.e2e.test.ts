// Horizontal scale over a real RabbitMQ: two member subgraph instances (each with its own live
// queue on its own connection) and two gateways (gateway i -> instance i), one event store. Every
// subscriber, on either gateway, gets each event of its member exactly once.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { RabbitMqEventBus } from '../../messaging/bus/rabbitmq-bus';
import { startHarness, type Harness } from './support/harness';
import { waitUntilLive } from './support/live';
import { gatewayClient, subscribe, type Collector } from './support/ws-client';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('scale');
const MEMBER_UPDATED = 'subscription Watch($id: ID!) { memberUpdated(id: $id) { cursor member { id probe } } }';

describe('two gateways and two member subgraph instances on one RabbitMQ', () => {
  let harness: Harness;
  const clients: Client[] = [];

  beforeAll(async () => {
    const buses = [
      await RabbitMqEventBus.connect({ url: broker.url, connectionName: 'subscriptions-test-a' }),
      await RabbitMqEventBus.connect({ url: broker.url, connectionName: 'subscriptions-test-b' }),
    ];
    harness = await startHarness({ buses, gateways: 2 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await harness?.close();
    for (const bus of harness?.buses ?? []) await bus.close();
    await broker.delete();
  });

  it('delivers each event once to every subscriber, whichever gateway it is on', async () => {
    const id = `m-${randomUUID()}`;
    const subs: Collector[] = [];
    for (const gateway of [0, 0, 1, 1]) {
      const c = gatewayClient(harness.wsUrl(gateway), { token: harness.token(id) });
      clients.push(c);
      const sub = subscribe(c, { query: MEMBER_UPDATED, variables: { id } });
      subs.push(sub);
    }
    // Warm each up in turn; the warm-up events reach the others too, so drain them all to a fence.
    for (const sub of subs) await waitUntilLive(harness, id, sub);
    const fence = await harness.emit(id);
    for (const sub of subs) {
      for (let n = await sub.takeNext(); n.cursor !== String(fence.position); n = await sub.takeNext());
    }

    const events = [];
    for (let i = 0; i < 20; i++) events.push(await harness.emit(id, i % 2 ? 'membership.renewed' : 'member.profile.updated'));
    const last = await harness.emit(id); // a closing fence: after it, nothing of ours is in flight
    const expected = [...events, last].map((e) => String(e.position));
    for (const sub of subs) {
      const got: string[] = [];
      while (got.length < expected.length) got.push(String((await sub.takeNext('an event')).cursor));
      expect(got).toEqual(expected);
      expect(sub.pending).toBe(0);
    }
    const sample = await (async () => {
      const c = gatewayClient(harness.wsUrl(1), { token: harness.token(id) });
      clients.push(c);
      const s = subscribe(c, { query: MEMBER_UPDATED, variables: { id }, extensions: { cursor: String(last.position - 1) } });
      return s.takeNext('a resumed event on the second gateway');
    })();
    expect(sample.data).toEqual({ memberUpdated: { cursor: String(last.position), member: { id, probe: `probe:${id}:for:${id}` } } });
  });
});
