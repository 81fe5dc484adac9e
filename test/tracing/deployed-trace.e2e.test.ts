// Tracing as deployed: every service of docker-compose.yml as its own process (support/deployment.ts),
// exporting to one OTLP/HTTP receiver through the compose file's OTEL_* settings. One createOrder
// with the client's traceparent, watched with sagaProgress, comes back as one whole trace spanning the
// gateway, the payment and member subgraphs and the worker.
// Needs `npm run build` first (the test script does it).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { mintClientToken } from '../../platform/auth';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startDeployment, type Deployment } from '../support/deployment';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';

jest.setTimeout(240_000);

describe('one trace across the deployed processes', () => {
  let receiver: OtlpReceiver;
  let deployment: Deployment;
  const clients: Client[] = [];
  const hostEnv: Record<string, string> = { JWT_SECRET: randomBytes(32).toString('hex'), SUBGRAPH_SECRET: randomBytes(32).toString('hex') };
  const token = (sub: string) => mintClientToken({ sub, role: 'member' }, hostEnv.JWT_SECRET as string, { expiresInSeconds: 600 });

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    deployment = await startDeployment({ hostEnv: { ...hostEnv, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    if (deployment) {
      const codes = await deployment.stop();
      expect(Object.values(codes).every((code) => code === 0)).toBe(true);
      expect(deployment.errors().map((l) => `${l.service}: ${l.text}`)).toEqual([]);
    }
    await receiver?.close();
  });

  async function graphql(query: string, variables: Record<string, unknown>, bearer: string, headers: Record<string, string> = {}) {
    const response = await fetch(deployment.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data ?? {};
  }

  it('reads back the createOrder trace whole, from every service it crossed', async () => {
    const memberId = `m-${randomUUID().slice(0, 8)}`;
    await graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, { input: { email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } }, token(memberId));

    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const data = await graphql(
      `mutation PlaceOrder($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
      { input: { items: [{ sku: 'MEM-VIP-12', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
      token(memberId),
      { traceparent: `00-${traceId}-${clientSpanId}-01` },
    );
    const orderId = (data.createOrder as { id: string }).id;

    const client = gatewayClient(deployment.gatewayUrl.replace(/^http/, 'ws'), { token: token(memberId) });
    clients.push(client);
    const watch = subscribe(client, { query: `subscription WatchOrder($orderId: ID!) { sagaProgress(orderId: $orderId) { eventType order { member { email } } } }`, variables: { orderId } });
    const steps: string[] = [];
    for (;;) {
      const item = await watch.take('a saga step', 60_000);
      if (item.kind === 'complete') break;
      if (item.kind !== 'next' || item.errors) throw new Error(`unexpected ${JSON.stringify(item)}`);
      steps.push((item.data as { sagaProgress: { eventType: string } }).sagaProgress.eventType);
    }
    expect(steps.at(-1)).toBe('order.completed');

    // Batches leave each process about every second: wait until the trace is whole (every parent
    // received) and each process's last batch is in (a missing child leaves the trace whole: the
    // member subgraph's spans, the last leaves of the pushes, are waited for by name).
    const spans = await eventually(
      () => {
        const mine = receiver.spans.filter((s) => s.traceId === traceId);
        const ids = new Set(mine.map((s) => s.spanId));
        const whole = mine.every((s) => s.parentSpanId === clientSpanId || ids.has(s.parentSpanId));
        const pushes = mine.filter((s) => s.name === 'gateway subscription event WatchOrder').length;
        const memberFetches = mine.some((s) => /^member query WatchOrder/.test(s.name));
        return whole && pushes === steps.length && memberFetches && mine.some((s) => s.name === 'process shipment.created') ? mine : null;
      },
      'the whole trace at the receiver',
      30_000,
    );
    const services = (name: string | RegExp) => new Set(spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name))).map((s) => s.service));
    const one = (name: string | RegExp): ReceivedSpan => {
      const found = spans.find((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
      if (!found) throw new Error(`no span ${String(name)} in ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
      return found;
    };
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    // One root: the gateway's span for the operation, a child of the client's span.
    expect(spans.filter((s) => s.parentSpanId === clientSpanId).map((s) => `${s.service}:${s.name}`)).toEqual(['membership-gateway:gateway mutation PlaceOrder']);
    // The payment subgraph's request under the gateway's fetch, in another process.
    const payment = one(/^payment mutation PlaceOrder/);
    expect(payment.service).toBe('membership-payment');
    expect(byId.get(payment.parentSpanId)).toMatchObject({ service: 'membership-gateway', name: 'gateway.fetch' });
    // The saga's consumers in the worker, each under the publish of what it handles (AMQP headers).
    for (const [type, queue] of [['payment.initiated', 'payment-service'], ['payment.completed', 'order-saga'], ['inventory.reserve', 'inventory'], ['shipment.created', 'order-saga']] as const) {
      const handled = spans.find((s) => s.name === `process ${type}` && String(s.attributes['messaging.destination.name']).endsWith(queue));
      expect({ type, queue, service: handled?.service, parent: byId.get(handled?.parentSpanId ?? '')?.name, outcome: handled?.attributes['membership.delivery.outcome'] }).toEqual({
        type,
        queue,
        service: 'membership-worker',
        parent: `publish ${type}`,
        outcome: 'ack',
      });
    }
    expect(services('order saga shipment.created')).toEqual(new Set(['membership-worker']));
    // The pushes: the payment subgraph's, then the gateway's (which fetched member fields from the member subgraph).
    expect(services(/^payment subscription event/)).toEqual(new Set(['membership-payment']));
    expect(services('gateway subscription event WatchOrder')).toEqual(new Set(['membership-gateway']));
    expect(services(/^member query WatchOrder/)).toEqual(new Set(['membership-member']));

  });
});
