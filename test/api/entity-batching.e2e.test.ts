// Entity resolution through the gateway reads each type once per request: the subgraphs batch every
// `_entities` call and every per-row field read into one getMany per collection, and every per-row
// list into one findMany (counted on the product's document store), instead of one read per entity,
// and the member read model's version pointer is not read per call.
import { createMemoryBackends } from '../../messaging/backends';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { countingDocuments, type CountingDocuments } from '../support/counting-documents';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

const MEMBERS = 12;

describe('entity batching in the subgraphs', () => {
  let product: RunningProduct;
  let documents: CountingDocuments;
  const admin = () => product.token('root', 'admin');
  const ids = Array.from({ length: MEMBERS }, (_, i) => `batch-m${String(i).padStart(2, '0')}`);

  async function ok<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    const { status, body } = await product.graphql(query, { variables, token });
    if (status !== 200 || body.errors) throw new Error(`${status} ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  beforeAll(async () => {
    const backends = await createMemoryBackends();
    documents = countingDocuments(backends.documents);
    product = await startProduct({ backends: { ...backends, documents } });
    for (const id of ids) {
      await ok(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, { input: { id, email: `${id}@example.org`, firstName: `F-${id}`, lastName: 'L' } }, admin());
      await ok(
        `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id } }`,
        { input: { certType: 'CPA', documents: [{ name: 'Transcript', url: `https://files.example.org/${id}.pdf` }] } },
        product.token(id),
      );
    }
    for (let n = 0; n < 3; n++) {
      await ok(
        `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
        { input: { items: [{ sku: 'MEM-VIP-12', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
        product.token(ids[0] as string),
      );
    }
    // The read models have caught up: every member listed, every order paid.
    await eventually(async () => {
      const data = await ok<{ members: { edges: unknown[] }; member: { orders: { edges: { node: { payment: { status: string } | null } }[] } } }>(
        `query($id: ID!) { members(first: 100) { edges { cursor } } member(id: $id) { orders(first: 10) { edges { node { payment { status } } } } } }`,
        { id: ids[0] },
        admin(),
      );
      return data.members.edges.length === MEMBERS && data.member.orders.edges.every((e) => e.node.payment?.status === 'COMPLETED');
    }, 'the read models to catch up', 30_000);
  }, 120_000);
  afterAll(async () => {
    await product.close();
  });

  it('reads the analytics of a page of members (an _entities call of 12, three fields each) with one getMany', async () => {
    documents.reset();
    const data = await ok<{ members: { edges: { node: { id: string; rewardPoints: number } }[] } }>(
      `{ members(first: ${MEMBERS}) { edges { node { id rewardPoints engagementScore { score } riskAssessment { level } } } } }`,
      {},
      admin(),
    );
    expect(data.members.edges.map((e) => e.node.rewardPoints)).toEqual(ids.map(() => 0));
    expect(documents.reads('analytics_members', 'get')).toBe(0);
    expect(documents.reads('analytics_members', 'getMany')).toBe(1);
    expect([...(documents.batches('analytics_members')[0] ?? [])].sort()).toEqual(expect.arrayContaining(ids));
  });

  it('resolves the member of each certification in a list (an _entities call to the member subgraph) with one getMany, without reading the version pointer per member', async () => {
    // A first request may read the pointer once; later ones remember it.
    await ok(`{ certifications(first: 1) { edges { node { member { firstName } } } } }`, {}, admin());
    documents.reset();
    const data = await ok<{ certifications: { edges: { node: { member: { id: string; firstName: string } } }[] } }>(
      `{ certifications(first: ${MEMBERS}) { edges { node { id member { id firstName } } } } }`,
      {},
      admin(),
    );
    expect(data.certifications.edges.map((e) => e.node.member.firstName).sort()).toEqual(ids.map((id) => `F-${id}`));
    expect(documents.reads('members', 'get')).toBe(0);
    expect(documents.reads('members', 'getMany')).toBe(1);
    expect(documents.reads('projection_versions', 'get')).toBe(0);
  });

  it('reads each member\'s certifications in a page of members (a list per row) with one findMany', async () => {
    documents.reset();
    const data = await ok<{ members: { edges: { node: { id: string; certifications: { edges: { node: { certType: string } }[] } } }[] } }>(
      `{ members(first: ${MEMBERS}) { edges { node { id certifications(first: 3) { edges { node { certType } } } } } } }`,
      {},
      admin(),
    );
    expect(data.members.edges.map((e) => e.node.certifications.edges.map((c) => c.node.certType))).toEqual(ids.map(() => ['CPA']));
    expect(documents.reads('certifications', 'find')).toBe(0);
    expect(documents.reads('certifications', 'findMany')).toBe(1);
  });

  it('reads the payment of each of a member\'s orders with one getMany', async () => {
    documents.reset();
    const data = await ok<{ member: { orders: { edges: { node: { payment: { status: string } } }[] } } }>(
      `query($id: ID!) { member(id: $id) { orders(first: 10) { edges { node { id payment { id status } } } } } }`,
      { id: ids[0] },
      admin(),
    );
    expect(data.member.orders.edges).toHaveLength(3);
    expect(documents.reads('payment_payments', 'get')).toBe(0);
    expect(documents.reads('payment_payments', 'getMany')).toBe(1);
    expect(documents.batches('payment_payments')[0]).toHaveLength(3);
  });
});
