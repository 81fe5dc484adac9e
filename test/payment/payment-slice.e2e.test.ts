// The payment slice through the gateway on the embedded store and real RabbitMQ: orders for each
// outcome watched live with sagaProgress (federated Member fields in the payload), member-scoped
// reads, coded refusals, the ledger for admins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { createBackends, type Backends } from '../../messaging/backends';
import { loadConfig } from '../../platform/config';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe, type Collector } from '../subscriptions/support/ws-client';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('payment-slice');

const PROGRESS = `subscription($orderId: ID!) { sagaProgress(orderId: $orderId) {
  eventType step status compensation terminal cursor order { id status member { id email } } } }`;

describe('payment slice through the gateway (embedded store, RabbitMQ)', () => {
  let product: RunningProduct;
  let backends: Backends;
  let dataDir: string;
  const clients: Client[] = [];
  const admin = () => product.token('admin-1', 'admin');

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'payment-e2e-'));
    const env = { DATA_DIR: dataDir, RABBITMQ_URL: broker.url, FOLLOWER_POLL_MS: '20' };
    backends = await createBackends(loadConfig(env));
    product = await startProduct({ env, backends });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await product.close();
    await backends.close();
    await broker.delete();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function member(): Promise<string> {
    const id = `m-${randomUUID().slice(0, 8)}`;
    const { body } = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token: product.token(id),
      variables: { input: { email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } },
    });
    expect(body.errors).toBeUndefined();
    return id;
  }

  async function createOrder(memberId: string, items: { sku: string; quantity: number }[], number: string = testCards.success) {
    const { body } = await product.graphql(
      `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id status totalCents paymentId } }`,
      { token: product.token(memberId), variables: { input: { items, card: { number, expMonth: 12, expYear: 2099, cvc: '123' } } } },
    );
    return body;
  }

  function watch(memberId: string, orderId: string): Collector {
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { token: product.token(memberId) });
    clients.push(client);
    return subscribe(client, { query: PROGRESS, variables: { orderId } });
  }

  type Step = { eventType: string; step: string; status: string; compensation: boolean; order: { status: string; member: { email: string } } };
  async function untilComplete(sub: Collector): Promise<Step[]> {
    const seen: Step[] = [];
    for (;;) {
      const item = await sub.take('a saga step', 20_000);
      if (item.kind === 'complete') return seen;
      if (item.kind !== 'next' || item.errors) throw new Error(`unexpected ${JSON.stringify(item)}`);
      seen.push((item.data as { sagaProgress: Step }).sagaProgress);
    }
  }

  it('a completed order, watched step by step, with the member from the member subgraph', async () => {
    const id = await member();
    const created = await createOrder(id, [{ sku: 'MEM-VIP-12', quantity: 1 }]);
    expect(created.errors).toBeUndefined();
    const order = (created.data as { createOrder: { id: string; status: string; totalCents: number } }).createOrder;
    expect(order).toMatchObject({ status: 'AWAITING_PAYMENT', totalCents: 29900 });
    const steps = await untilComplete(watch(id, order.id));
    expect(steps.map((s) => s.eventType)).toEqual([
      'order.created', 'payment.initiated', 'payment.authorized', 'payment.completed', 'inventory.reserve', 'inventory.reserved',
      'shipping.create', 'shipment.created', 'order.completed',
    ]);
    expect(steps.at(-1)).toMatchObject({ step: 'ORDER', status: 'SUCCEEDED', compensation: false, order: { member: { email: `${id}@example.org` } } });
    const { body } = await eventually(async () => {
      const r = await product.graphql(`query($id: ID!) { member(id: $id) { tier orders { edges { node { id status trackingNumber payment { status cardLast4 } } } } payments { edges { node { status } } } } }`, {
        token: product.token(id),
        variables: { id },
      });
      return (r.body.data as { member?: { tier: string } } | undefined)?.member?.tier === 'VIP' ? r : null;
    }, 'the VIP membership to be activated');
    expect(body.data).toMatchObject({
      member: {
        tier: 'VIP',
        orders: { edges: [{ node: { id: order.id, status: 'COMPLETED', trackingNumber: expect.stringMatching(/^DG/), payment: { status: 'COMPLETED', cardLast4: '4242' } } }] },
        payments: { edges: [{ node: { status: 'COMPLETED' } }] },
      },
    });
  });

  it('a declined card ends the order FAILED; out of stock ends it CANCELLED after a refund, compensation shown', async () => {
    const id = await member();
    const declined = (await createOrder(id, [{ sku: 'COURSE-AUDIT', quantity: 1 }], testCards.declined)).data as { createOrder: { id: string } };
    const failedSteps = await untilComplete(watch(id, declined.createOrder.id));
    expect(failedSteps.map((s) => s.eventType)).toEqual(['order.created', 'payment.initiated', 'payment.failed', 'order.failed']);

    await product.graphql(`mutation { setStock(sku: "GOODS-HANDBOOK", available: 0) { sku stock } }`, { token: admin() });
    const noStock = (await createOrder(id, [{ sku: 'GOODS-HANDBOOK', quantity: 1 }])).data as { createOrder: { id: string } };
    const cancelled = await untilComplete(watch(id, noStock.createOrder.id));
    expect(cancelled.map((s) => s.eventType)).toEqual(expect.arrayContaining(['inventory.failed', 'payment.refund', 'payment.refunded', 'order.cancelled']));
    expect(cancelled.filter((s) => s.compensation).map((s) => s.eventType)).toEqual(['payment.refund', 'payment.refunded', 'order.cancelled']);
    expect(cancelled.at(-1)?.order.status).toBe('CANCELLED');

    const ledger = await eventually(async () => {
      const r = await product.graphql(`{ ledger { totalCents transactionCount accounts { account balanceCents } } }`, { token: admin() });
      const l = (r.body.data as { ledger: { transactionCount: number } }).ledger;
      return l.transactionCount >= 3 ? l : null;
    }, 'the ledger to post the capture and the refund');
    expect(ledger).toMatchObject({ totalCents: 0 });
  });

  it('refuses bad input and other members\' orders with coded errors', async () => {
    const id = await member();
    const other = await member();
    const bad = await createOrder(id, [{ sku: 'NOPE', quantity: 1 }]);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await createOrder(id, [{ sku: 'COURSE-AUDIT', quantity: 0 }])).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await createOrder(id, [{ sku: 'COURSE-AUDIT', quantity: 1 }], '1234')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    // A token whose subject has no member record cannot order, nor can an admin order for it.
    const head = await backends.store.headPosition();
    const ghost = `ghost-${randomUUID().slice(0, 8)}`;
    expect((await createOrder(ghost, [{ sku: 'MEM-VIP-12', quantity: 1 }])).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'memberId' });
    const forGhost = await product.graphql(`mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`, {
      token: admin(),
      variables: { input: { memberId: ghost, items: [{ sku: 'MEM-VIP-12', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
    });
    expect(forGhost.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'memberId' });
    // Nothing was appended for the ghost. The head itself may move: the members made above still
    // have their welcome mail and CRM sync recorded by consumers, whenever those get to them.
    const since: string[] = [];
    for await (const batch of backends.store.readAll({ after: head })) for (const e of batch) since.push(`${e.type} ${e.streamId} ${JSON.stringify(e.payload)}`);
    expect(since.filter((line) => line.includes(ghost))).toEqual([]);
    const mine = (await createOrder(id, [{ sku: 'COURSE-AUDIT', quantity: 1 }])).data as { createOrder: { id: string } };
    const peek = await product.graphql(`query($id: ID!) { order(id: $id) { id } }`, { token: product.token(other), variables: { id: mine.createOrder.id } });
    expect(peek.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const ledger = await product.graphql(`{ ledger { totalCents } }`, { token: product.token(id) });
    expect(ledger.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const orders = await product.graphql(`query($id: ID!) { orders(memberId: $id) { totalCount edges { node { id } } } mine: orders { totalCount } }`, {
      token: product.token(id),
      variables: { id },
    });
    expect(orders.body.data).toEqual({ orders: { totalCount: 1, edges: [{ node: { id: mine.createOrder.id } }] }, mine: { totalCount: 1 } });
    const theirs = await product.graphql(`query($id: ID!) { orders(memberId: $id) { totalCount } }`, { token: product.token(other), variables: { id } });
    expect(theirs.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
