// Federation for real: one query through the gateway reads a member with fields from all four
// subgraphs, after each subgraph has stored something of its own for that member.
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

interface FederatedMember {
  member: {
    firstName: string;
    certifications: { totalCount: number; edges: { node: { certType: string; status: string } }[] };
    orders: { totalCount: number; edges: { node: { status: string; totalCents: number } }[] };
    activitySummaries: { totalCount: number; edges: unknown[] };
    rewardPoints: number;
  } | null;
}

describe('a member across the four subgraphs', () => {
  let product: RunningProduct;
  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  it('returns real data from member, payment, certification and analytics in one query', async () => {
    const token = product.token('fed-1');
    const run = async (query: string) => {
      const { body } = await product.graphql(query, { token });
      expect(body.errors).toBeUndefined();
      return body.data;
    };
    await run(`mutation { createMember(input: { email: "fed-1@example.org", firstName: "Fe", lastName: "Derated" }) { id } }`);
    await run(
      `mutation { applyForCertification(input: { certType: "CPA", documents: [{ name: "Transcript", url: "https://example.org/t.pdf" }] }) { id } }`,
    );
    await run(
      `mutation { createOrder(input: { items: [{ sku: "COURSE-ETHICS", quantity: 1 }], card: { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" } }) { id } }`,
    );
    await run(`mutation { trackActivity(input: { memberId: "fed-1", type: MEMBER_LOGIN, location: "Ghent" }) { __typename } }`);

    const data = await eventually(async () => {
      const { body } = await product.graphql(
        `{ member(id: "fed-1") { firstName certifications { totalCount edges { node { certType status } } } orders { totalCount edges { node { status totalCents } } }
          activitySummaries { totalCount edges { cursor } } rewardPoints } }`,
        { token },
      );
      const m = (body.data as FederatedMember | undefined)?.member;
      return m && m.certifications.totalCount === 1 && m.orders.totalCount === 1 && m.orders.edges[0]?.node.status === 'COMPLETED' ? m : null;
    }, 'the member, its certification and its completed order to be readable');
    expect(data).toMatchObject({
      firstName: 'Fe',
      certifications: { edges: [{ node: { certType: 'CPA', status: 'APPLIED' } }] },
      orders: { edges: [{ node: { status: 'COMPLETED', totalCents: 19900 } }] },
      rewardPoints: 0,
    });
    expect(data.activitySummaries.totalCount).toBe(data.activitySummaries.edges.length);
  });
});
