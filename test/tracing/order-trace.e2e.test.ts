// One createOrder through the gateway is one trace: the client's traceparent is continued by the
// gateway, its query-plan fetch, the payment subgraph, the append, the publish of every event, each
// saga consumer and saga step, and each sagaProgress push to the client; run over the in-process bus
// (in-memory store) and over RabbitMQ (embedded store), where the trace context rides in AMQP headers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from 'graphql-ws';
import { createBackends, createMemoryBackends, type Backends } from '../../messaging/backends';
import { loadConfig } from '../../platform/config';
import { startTracing, type TracingHandle } from '../../platform/tracing';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('order-trace');

const PROGRESS = `subscription WatchOrder($orderId: ID!) { sagaProgress(orderId: $orderId) { eventType terminal order { id member { id email } } } }`;
const SAGA_STEPS = ['order.created', 'payment.initiated', 'payment.authorized', 'payment.completed', 'inventory.reserve', 'inventory.reserved', 'shipping.create', 'shipment.created', 'order.completed'];

// One SDK for the file, as a process has: Apollo's tracer keeps the provider it first found.
const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
beforeAll(() => {
  tracing = startTracing(loadConfig({ NODE_ENV: 'test' }), { serviceName: 'membership-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterAll(() => tracing.shutdown());

describe.each([
  ['the in-process bus', 'memory'],
  ['RabbitMQ', 'rabbitmq'],
] as const)('one createOrder is one trace, on %s', (_label, kind) => {
  let product: RunningProduct;
  let backends: Backends;
  let dataDir: string | null = null;
  const clients: Client[] = [];

  beforeAll(async () => {
    if (kind === 'memory') {
      backends = await createMemoryBackends();
      product = await startProduct({ backends });
    } else {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-trace-'));
      const env = { DATA_DIR: dataDir, RABBITMQ_URL: broker.url, FOLLOWER_POLL_MS: '20' };
      backends = await createBackends(loadConfig(env));
      product = await startProduct({ env, backends });
    }
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await product.close();
    await backends.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  if (kind === 'rabbitmq') afterAll(() => broker.delete());

  it('joins the client trace and carries it through the gateway, payment, store, bus, saga and sagaProgress', async () => {
    const memberId = `m-${randomUUID().slice(0, 8)}`;
    const created = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token: product.token(memberId),
      variables: { input: { email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } },
    });
    expect(created.body.errors).toBeUndefined();

    // The client's own trace: the gateway must continue it, not start another.
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const correlationId = `trace-test-${randomUUID()}`;
    const order = await product.graphql(
      `mutation PlaceOrder($input: CreateOrderInput!) { createOrder(input: $input) { id status } }`,
      {
        token: product.token(memberId),
        headers: { traceparent: `00-${traceId}-${clientSpanId}-01`, 'x-correlation-id': correlationId },
        variables: { input: { items: [{ sku: 'MEM-VIP-12', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
      },
    );
    expect(order.body.errors).toBeUndefined();
    const orderId = (order.body.data as { createOrder: { id: string } }).createOrder.id;

    // sagaProgress (history, then live) to the end: every push is a span of the same trace.
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { token: product.token(memberId) });
    clients.push(client);
    const watch = subscribe(client, { query: PROGRESS, variables: { orderId } });
    const seen: string[] = [];
    for (;;) {
      const item = await watch.take('a saga step', 20_000);
      if (item.kind === 'complete') break;
      if (item.kind !== 'next' || item.errors) throw new Error(`unexpected ${JSON.stringify(item)}`);
      seen.push((item.data as { sagaProgress: { eventType: string } }).sagaProgress.eventType);
    }
    expect(seen).toEqual(SAGA_STEPS);

    const inTrace = () => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const appending = (spans: readonly ReadableSpan[], type: string) =>
      spans.find((s) => s.name === 'event store append' && String(s.attributes['membership.event.type']).split(',').includes(type));
    const named = (spans: readonly ReadableSpan[], name: string | RegExp) => spans.filter((span) => (typeof name === 'string' ? span.name === name : name.test(span.name)));
    // The last saga consumers and pushes end after the client saw the last step: wait for their spans.
    const spans = await eventually(() => {
      const all = inTrace();
      const pushed = named(all, /^gateway subscription event WatchOrder$/).length >= SAGA_STEPS.length;
      const handled = all.some((s) => s.name === 'process order.completed');
      // Spans end after their children: wait until every parent has ended too.
      const ids = new Set(all.map((s) => s.spanContext().spanId));
      const whole = all.every((s) => s.parentSpanContext?.spanId === clientSpanId || ids.has(s.parentSpanContext?.spanId ?? ''));
      if (pushed && handled && whole) return all;
      const orphans = all.filter((s) => s.parentSpanContext?.spanId !== clientSpanId && !ids.has(s.parentSpanContext?.spanId ?? '')).map((s) => s.name);
      throw new Error(`pushed ${String(pushed)}, order.completed handled ${String(handled)}, without their parent: ${orphans.join(', ')}; spans: ${all.map((s) => s.name).join(', ')}`);
    }, 'every span of the order to end');
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId ?? '');
    const ancestors = (span: ReadableSpan): ReadableSpan[] => {
      const chain: ReadableSpan[] = [];
      for (let p = parentOf(span); p; p = parentOf(p)) chain.push(p);
      return chain;
    };
    // Every span of the trace hangs from the client's span: no orphan, no second root.
    for (const span of spans) {
      const chain = ancestors(span);
      const top = chain.at(-1) ?? span;
      expect({ span: span.name, root: top.name, parent: top.parentSpanContext?.spanId }).toEqual({ span: span.name, root: 'gateway mutation PlaceOrder', parent: clientSpanId });
    }

    // The gateway: the operation (name and type, no variables), the plan's fetch.
    const [gateway] = named(spans, 'gateway mutation PlaceOrder');
    expect(gateway).toBeDefined();
    expect(gateway?.kind).toBe(SpanKind.SERVER);
    expect(gateway?.attributes).toMatchObject({ 'graphql.operation.name': 'PlaceOrder', 'graphql.operation.type': 'mutation', 'membership.correlation_id': correlationId });
    expect(JSON.stringify(gateway?.attributes)).not.toContain(testCards.success);
    const fetches = named(spans, 'gateway.fetch');
    expect(fetches.length).toBeGreaterThan(0);

    // The payment subgraph, under a fetch of the gateway's plan.
    const [payment] = named(spans, /^payment mutation/);
    expect(payment?.kind).toBe(SpanKind.SERVER);
    expect(payment && parentOf(payment)?.name).toBe('gateway.fetch');
    expect(payment?.attributes['membership.correlation_id']).toBe(correlationId);
    // Its resolver, a span of its own under the request's.
    const [resolver] = named(spans, 'resolve Mutation.createOrder');
    expect(resolver && parentOf(resolver)).toBe(payment);

    // The append of order.created, inside the payment request; its publish, under the append.
    const appendOfOrder = appending(spans, 'order.created');
    expect(appendOfOrder && ancestors(appendOfOrder)).toContain(payment);
    expect(appendOfOrder?.attributes['membership.correlation_id']).toBe(correlationId);
    const [publishOrder] = named(spans, 'publish order.created');
    expect(publishOrder?.kind).toBe(SpanKind.PRODUCER);
    expect(publishOrder && parentOf(publishOrder)).toBe(appendOfOrder);
    expect(publishOrder?.attributes['messaging.system']).toBe(kind === 'memory' ? 'in-process' : 'rabbitmq');

    // Each saga consumer handles its event as a child of that event's publish, and acks it.
    const consumer = (type: string, queue: string) => {
      const found = named(spans, `process ${type}`).find((s) => String(s.attributes['messaging.destination.name']).endsWith(queue));
      expect({ type, queue, found: Boolean(found) }).toEqual({ type, queue, found: true });
      const parent = found && parentOf(found);
      expect(parent?.name).toBe(`publish ${type}`);
      expect(found?.kind).toBe(SpanKind.CONSUMER);
      expect(found?.attributes['membership.delivery.outcome']).toBe('ack');
      expect(found?.attributes['membership.correlation_id']).toBe(correlationId);
      return found as ReadableSpan;
    };
    consumer('payment.initiated', 'payment-service');
    consumer('payment.completed', 'order-saga');
    consumer('payment.completed', 'accounting');
    consumer('inventory.reserve', 'inventory');
    consumer('inventory.reserved', 'order-saga');
    consumer('shipping.create', 'shipping');
    const lastReply = consumer('shipment.created', 'order-saga');
    // The saga step the last reply caused runs inside its consumer span and completes the order.
    const lastStep = named(spans, 'order saga shipment.created').find((s) => parentOf(s) === lastReply);
    expect(lastStep?.attributes).toMatchObject({ 'membership.order.id': orderId, 'membership.saga.status': 'completed' });

    // Each sagaProgress push: the payment subgraph's push continues its event's trace, and the
    // gateway's sending continues the push, with the transport and the subscribers it went to.
    const pushes = named(spans, 'gateway subscription event WatchOrder');
    expect(pushes).toHaveLength(SAGA_STEPS.length);
    for (const push of pushes) {
      expect(parentOf(push)?.name).toMatch(/^payment subscription event WatchOrder/);
      expect(push.attributes).toMatchObject({ 'membership.subscription.transport': 'graphql-ws', 'membership.subscription.subscribers': 1 });
      expect(push.links).toHaveLength(1);
    }
    // The member fields of each push come from the member subgraph as an `_entities` batch, a span of its own.
    const entities = named(spans, 'resolve Query._entities').filter((s) => /^member query WatchOrder/.test(parentOf(s)?.name ?? ''));
    expect(entities.length).toBeGreaterThanOrEqual(SAGA_STEPS.length);
    expect(entities[0]?.attributes['membership.entities.count']).toBe(1);
    // The push of the last step hangs from the append of order.completed.
    const completedAppend = appending(spans, 'order.completed');
    expect(pushes.some((push) => ancestors(push).includes(completedAppend as ReadableSpan))).toBe(true);

    // The delivery-time histogram names this trace in its exemplars, for a scraper that asks for OpenMetrics.
    const metrics = `${new URL(product.gateway.url).origin}/metrics`;
    const open = await fetch(metrics, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers.get('content-type')).toContain('application/openmetrics-text');
    const exemplar = new RegExp(`^membership_delivery_duration_seconds_bucket\\{[^}]*queue="[^"]*order-saga"[^}]*\\} \\d+ # \\{[^}]*trace_id="${traceId}"`, 'm');
    expect(await open.text()).toMatch(exemplar);
    const plain = await (await fetch(metrics)).text();
    expect(plain).toMatch(/^membership_delivery_duration_seconds_bucket\{/m);
    expect(plain).not.toContain('trace_id=');
  });
});
