// `npm start`'s gateway calls the subgraphs of its own process in process: the same answers as over
// HTTP, no HTTP at all (the subgraph URLs it is given lead nowhere), and the same signed identity:
// the subgraph checks the signature and the caller's rights exactly as on its /graphql.
import { randomBytes } from 'node:crypto';
import { startGateway, type RunningGateway } from '../../gateway/gateway-server';
import { startProduct, type RunningProduct } from '../support/product';

const nowhere = 'http://127.0.0.1:9/graphql';

describe('the gateway calling subgraphs in process', () => {
  let product: RunningProduct;
  let http: RunningGateway;
  let wrongSecret: RunningGateway;
  const admin = () => product.token('root', 'admin');

  async function post(url: string, query: string, token?: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } };
  }

  beforeAll(async () => {
    product = await startProduct({
      inProcessSubgraphs: true,
      // Any HTTP call to a subgraph would fail: only in-process calls can answer.
      gateway: { subgraphUrls: { member: nowhere, payment: nowhere, certification: nowhere, analytics: nowhere } },
    });
    const common = {
      host: '127.0.0.1',
      port: 0,
      jwtSecret: product.config.JWT_SECRET,
      sandbox: false,
      introspection: false,
      production: false,
    };
    http = await startGateway({
      ...common,
      subgraphUrls: Object.fromEntries(Object.entries(product.subgraphs).map(([name, s]) => [name, s.url])),
      subgraphSecret: product.config.SUBGRAPH_SECRET,
    });
    wrongSecret = await startGateway({
      ...common,
      subgraphUrls: { member: nowhere, payment: nowhere, certification: nowhere, analytics: nowhere },
      inProcessSubgraphs: product.subgraphs,
      // Another secret than the subgraphs' (random: a secret written here would be a published one).
      subgraphSecret: randomBytes(32).toString('hex'),
    });
    await post(
      product.gateway.url,
      `mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`,
      admin(),
      { input: { id: 'inproc-1', email: 'inproc-1@example.org', firstName: 'Ada', lastName: 'Lovelace' } },
    );
    await post(
      product.gateway.url,
      `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id } }`,
      product.token('inproc-1'),
      { input: { certType: 'CPA', documents: [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }] } },
    );
  });
  afterAll(async () => {
    await wrongSecret?.close();
    await http?.close();
    await product?.close();
  });

  const memberPage = `query($id: ID!) { member(id: $id) {
    id firstName tier
    certifications(first: 5) { edges { node { certType status type { name } member { lastName } } } }
    orders(first: 5) { edges { node { id } } }
    rewardPoints engagementScore { score }
  } }`;

  it('answers a query across all four subgraphs as the HTTP gateway does, with no HTTP to the subgraphs', async () => {
    const token = product.token('inproc-1');
    const inProcess = await post(product.gateway.url, memberPage, token, { id: 'inproc-1' });
    const overHttp = await post(http.url, memberPage, token, { id: 'inproc-1' });
    expect(inProcess.body.errors).toBeUndefined();
    expect(inProcess.body).toEqual(overHttp.body);
    expect(inProcess.body.data?.member).toMatchObject({ id: 'inproc-1', firstName: 'Ada', certifications: { edges: [{ node: { certType: 'CPA', member: { lastName: 'Lovelace' } } }] } });
  });

  it('forwards the caller: another member is refused by the subgraph with FORBIDDEN, no token with UNAUTHENTICATED', async () => {
    const other = await post(product.gateway.url, memberPage, product.token('someone-else'), { id: 'inproc-1' });
    expect(other.body.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    const anonymous = await post(product.gateway.url, memberPage, undefined, { id: 'inproc-1' });
    expect(anonymous.body.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');
  });

  it('is refused by the subgraph when the gateway signs with another secret, as over HTTP', async () => {
    const { body } = await post(wrongSecret.url, memberPage, admin(), { id: 'inproc-1' });
    expect(body.data?.member ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toMatch(/^The member subgraph refused the gateway's call/);
  });

  it('answers a subgraph\'s refusal of the client\'s input as BAD_USER_INPUT', async () => {
    const { body } = await post(product.gateway.url, `{ member(id: "inproc-1") { certifications(first: 1000) { edges { cursor } } } }`, admin());
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
