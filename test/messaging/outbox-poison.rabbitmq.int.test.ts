// A poison event on real RabbitMQ: the whole product runs on a RabbitMQ bus (in this file's vhost)
// that takes messages up to 64 KiB. An event larger than that is stored; the outbox relay parks it
// (listed in eventMonitor, counted in /metrics, audited) and every later event still reaches the
// consumers through the broker. An admin can retry it (still refused) or skip it.
import { createMemoryBackends } from '../../messaging/backends';
import { RabbitMqEventBus } from '../../messaging/bus/rabbitmq-bus';
import { metricsObserver, metricsRegistry } from '../../messaging/monitor/metrics';
import { crmContacts } from '../../subgraphs/member/consumers/crm.consumer';
import { useTestVhost } from '../support/rabbit';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

const broker = useTestVhost('outbox-poison');

describe('outbox relay on RabbitMQ with a poison event', () => {
  let product: RunningProduct;
  let bus: RabbitMqEventBus;
  let admin: string;

  beforeAll(async () => {
    bus = await RabbitMqEventBus.connect({ url: broker.url, maxMessageBytes: 64 * 1024, retryLowMs: 100 }, { observer: metricsObserver });
    const memory = await createMemoryBackends();
    product = await startProduct({ backends: { ...memory, bus, description: { ...memory.description, eventBus: 'RabbitMQ' } } });
    admin = product.token('ops', 'admin');
  }, 60_000);

  afterAll(async () => {
    await product?.close();
    // The backends' close is the in-process ones' (their bus included): the RabbitMQ bus that
    // replaced it is this file's to close, before its vhost goes.
    await product?.backends.close();
    await bus?.close();
    await broker.delete();
  });

  const createMember = (id: string) =>
    product.graphql('mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }', {
      token: admin,
      variables: { input: { id, email: `${id}@example.org`, firstName: 'Poi', lastName: 'Son' } },
    });

  type Parked = { eventId: string; type: string; position: number; reason: string; status: string; failedAttempts: number };
  const monitor = async () => {
    const body = (
      await product.graphql('{ eventMonitor { parkedTotal parkedEvents { edges { node { eventId type position reason status failedAttempts } } } } }', { token: admin })
    ).body as { data?: { eventMonitor: { parkedTotal: number; parkedEvents: { edges: { node: Parked }[] } } } };
    const monitor = body.data?.eventMonitor;
    return { data: monitor ? { eventMonitor: { parkedTotal: monitor.parkedTotal, parkedEvents: monitor.parkedEvents.edges.map((e) => e.node) } } : undefined };
  };

  it('parks the event RabbitMQ cannot take, and later events still reach the consumers', async () => {
    expect((await createMember('p1')).body.errors).toBeUndefined();
    await eventually(() => crmContacts(product.backends.documents).get('p1'), 'the CRM consumer to sync p1 through RabbitMQ');

    // Stored as any event is; 100 KiB is more than this broker connection takes in one message.
    const [poison] = (
      await product.backends.store.append(
        'member-p1',
        [{ type: 'member.profile.updated', payload: { memberId: 'p1', changes: { bio: { before: null, after: 'x'.repeat(100 * 1024) } } } }],
        { expectedVersion: 'any', context: { correlationId: 'poison' } },
      )
    ).events;
    if (!poison) throw new Error('the poison event was not stored');

    // Events after it flow on: a member created later is synced by the CRM consumer.
    expect((await createMember('p2')).body.errors).toBeUndefined();
    await eventually(() => crmContacts(product.backends.documents).get('p2'), 'the CRM consumer to sync p2, created after the poison event');
    await product.workers.relay.caughtUp();
    expect(product.workers.relay.status()).toMatchObject({ failures: 0 });
    // The CRM contact of p1 never saw the profile change the bus could not carry.
    expect((await crmContacts(product.backends.documents).get('p1'))?.version).toBe(1);

    const seen = await monitor();
    expect(seen).not.toHaveProperty('errors');
    expect(seen.data?.eventMonitor).toEqual({
      parkedTotal: 1,
      parkedEvents: [
        { eventId: poison.id, type: 'member.profile.updated', position: poison.position, reason: expect.stringMatching(/more than the 65536/), status: 'PARKED', failedAttempts: 1 },
      ],
    });
    expect(await metricsRegistry.metrics()).toMatch(/^membership_outbox_parked_events 1$/m);
    expect(await metricsRegistry.metrics()).toMatch(/^membership_outbox_events_parked_total\{type="member.profile.updated"\} 1$/m);

    // Retrying cannot help while the cause stands; skipping takes it off the list, audited.
    const retry = await product.graphql('mutation($id: ID!) { retryParkedEvent(eventId: $id) { status } }', { token: admin, variables: { id: poison.id } });
    expect(retry.body.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_EVENT' });
    const member = await product.graphql('mutation($id: ID!) { skipParkedEvent(eventId: $id, reason: "bio too long") { status } }', {
      token: product.token('p1'),
      variables: { id: poison.id },
    });
    expect(member.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const skipped = await product.graphql('mutation($id: ID!) { skipParkedEvent(eventId: $id, reason: "bio too long") { status failedAttempts resolvedBy note } }', {
      token: admin,
      variables: { id: poison.id },
    });
    expect(skipped.body).toEqual({ data: { skipParkedEvent: { status: 'SKIPPED', failedAttempts: 2, resolvedBy: 'ops', note: 'bio too long' } } });
    expect((await monitor()).data?.eventMonitor.parkedTotal).toBe(0);
    const audit = await product.backends.store.readStream(`outbox-parked-${poison.id}`);
    expect(audit.map((e) => [e.type, e.actor?.id])).toEqual([
      ['outbox.event.parked', 'outbox-relay'],
      ['outbox.event.skipped', 'ops'],
    ]);
  }, 60_000);
});
