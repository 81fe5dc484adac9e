// Idempotency keys through the gateway, for every creating mutation: a repeat (or a concurrent twin)
// with the same key and input answers the first result, so a client whose request was reset can
// retry safely; the same key with another input is CONFLICT; the Idempotency-Key header works as the
// input field does; keys are per caller.
import { randomUUID } from 'node:crypto';
import type { SimulatedCardProcessor } from '../../subgraphs/payment/domain/simulated-card-processor';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startProduct, type GraphQLResponse, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

const ORDER = `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id paymentId status } }`;
const card = { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' };

describe('idempotent creation through the gateway', () => {
  let product: RunningProduct;
  let admin: string;

  beforeAll(async () => {
    product = await startProduct();
    admin = product.token('ops', 'admin');
    for (const id of ['ida', 'idb']) {
      const created = await product.graphql('mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }', {
        token: admin,
        variables: { input: { id, email: `${id}@example.org`, firstName: 'Ida', lastName: 'Empotent' } },
      });
      expect(created.body.errors).toBeUndefined();
    }
  }, 60_000);

  afterAll(async () => {
    await product?.close();
  });

  const data = <T>(response: GraphQLResponse): T => {
    expect(response.body.errors).toBeUndefined();
    return response.body.data as T;
  };
  const code = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions;

  async function ordersOf(memberId: string): Promise<string[]> {
    return data<{ orders: { edges: { node: { id: string } }[] } }>(
      await product.graphql(`query($m: ID!) { orders(memberId: $m, first: 100) { edges { node { id } } } }`, { token: admin, variables: { m: memberId } }),
    ).orders.edges.map((e) => e.node.id);
  }

  it('creates one order and one charge for two concurrent identical createOrder requests, and the same for a later repeat', async () => {
    const token = product.token('ida');
    const input = { items: [{ sku: 'COURSE-ETHICS', quantity: 1 }], card, idempotencyKey: `order-${randomUUID()}` };
    const [one, two] = await Promise.all([product.graphql(ORDER, { token, variables: { input } }), product.graphql(ORDER, { token, variables: { input } })]);
    const first = data<{ createOrder: { id: string; paymentId: string } }>(one).createOrder;
    expect(data<{ createOrder: { id: string } }>(two).createOrder.id).toBe(first.id);

    // The client lost the answer and retries after the order went through.
    const processor = product.workers.payment.slice.gateway as SimulatedCardProcessor;
    await eventually(async () => (await product.workers.payment.slice.orders.get(first.id))?.status === 'completed', 'the order to complete');
    const retried = data<{ createOrder: { id: string; status: string } }>(await product.graphql(ORDER, { token, variables: { input } })).createOrder;
    expect(retried).toMatchObject({ id: first.id, status: 'COMPLETED' });
    expect(await ordersOf('ida')).toEqual([first.id]);
    expect(await processor.records.get(first.paymentId)).toMatchObject({ captures: 1 });
    expect(await processor.records.count()).toBe(1);

    // The same key with another order: CONFLICT, nothing new.
    const other = await product.graphql(ORDER, { token, variables: { input: { ...input, items: [{ sku: 'COURSE-ETHICS', quantity: 2 }] } } });
    expect(code(other)).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(await ordersOf('ida')).toEqual([first.id]);
  });

  it('takes the key from the Idempotency-Key header (forwarded by the gateway), per caller', async () => {
    const key = `hdr-${randomUUID()}`;
    const input = { items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card };
    const send = (sub: string, extra: Record<string, unknown> = {}) =>
      product.graphql(ORDER, { token: product.token(sub), variables: { input: { ...input, ...extra } }, headers: { 'Idempotency-Key': key } });
    const before = await ordersOf('idb');
    const first = data<{ createOrder: { id: string } }>(await send('idb')).createOrder.id;
    expect(data<{ createOrder: { id: string } }>(await send('idb')).createOrder.id).toBe(first);
    expect(await ordersOf('idb')).toEqual([first, ...before]);
    // Another caller's key is another key.
    expect(data<{ createOrder: { id: string } }>(await send('ida')).createOrder.id).not.toBe(first);
    // A field and a header that disagree, or a key that cannot be one, are refused.
    expect(code(await send('idb', { idempotencyKey: 'something-else' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    const long = await product.graphql(ORDER, { token: product.token('idb'), variables: { input: { ...input, idempotencyKey: 'k'.repeat(129) } } });
    expect(code(long)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
  });

  it('applies for a certification once per key, also when two identical requests race', async () => {
    const token = product.token('ida');
    const APPLY = `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id } }`;
    const input = { certType: 'CPA', documents: [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }], idempotencyKey: randomUUID() };
    const answers = await Promise.all([1, 2, 3].map(() => product.graphql(APPLY, { token, variables: { input } })));
    const ids = answers.map((a) => data<{ applyForCertification: { id: string } }>(a).applyForCertification.id);
    expect(new Set(ids).size).toBe(1);
    let applied = 0;
    for await (const batch of product.backends.store.readAll({ types: ['certification.applied'] })) applied += batch.filter((e) => (e.payload as { applicantId: string }).applicantId === 'ida').length;
    expect(applied).toBe(1);
    expect(code(await product.graphql(APPLY, { token, variables: { input: { ...input, certType: 'CIA' } } }))).toMatchObject({ code: 'CONFLICT' });
  });

  it('registers a member once per key (an admin without an id gets one id), tracks activity and starts a replay once', async () => {
    const CREATE = 'mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }';
    const member = { email: `k-${randomUUID().slice(0, 8)}@example.org`, firstName: 'Kay', lastName: 'Once', idempotencyKey: randomUUID() };
    const [a, b] = await Promise.all([product.graphql(CREATE, { token: admin, variables: { input: member } }), product.graphql(CREATE, { token: admin, variables: { input: member } })]);
    const id = data<{ createMember: { id: string } }>(a).createMember.id;
    expect(data<{ createMember: { id: string } }>(b).createMember.id).toBe(id);
    expect(code(await product.graphql(CREATE, { token: admin, variables: { input: { ...member, firstName: 'Other' } } }))).toMatchObject({ code: 'CONFLICT' });

    const TRACK = 'mutation($input: ActivityInput!, $key: String) { trackActivity(input: $input, idempotencyKey: $key) { eventId } }';
    const activity = { memberId: 'ida', type: 'MEMBER_LOGIN' };
    const key = randomUUID();
    const tracked = await Promise.all([1, 2].map(() => product.graphql(TRACK, { token: product.token('ida'), variables: { input: activity, key } })));
    const eventIds = tracked.map((t) => data<{ trackActivity: { eventId: string } }>(t).trackActivity.eventId);
    expect(eventIds[0]).toBe(eventIds[1]);
    expect(code(await product.graphql(TRACK, { token: product.token('ida'), variables: { input: { ...activity, type: 'COURSE_STARTED', courseId: 'c1' }, key } }))).toMatchObject({
      code: 'CONFLICT',
    });

    const REPLAY = 'mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }';
    const range = { from: '2000-01-01T00:00:00Z', to: new Date(Date.now() - 1000).toISOString(), targets: ['crm'], idempotencyKey: randomUUID() };
    const first = data<{ startReplay: { id: string } }>(await product.graphql(REPLAY, { token: admin, variables: { input: range } })).startReplay.id;
    expect(data<{ startReplay: { id: string } }>(await product.graphql(REPLAY, { token: admin, variables: { input: range } })).startReplay.id).toBe(first);
  });
});
