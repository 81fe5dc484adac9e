// Errors in production, through the gateway over HTTP and WebSocket (and at a subgraph, for a caller
// holding the gateway's signature): no schema suggestions, a subgraph's 400 as the client's
// BAD_USER_INPUT with the subgraph's message, no internal URL, raw body or stack trace, and no
// more than a short piece of any input repeated.
import { GATEWAY_IDENTITY_HEADER, signForwardedIdentity } from '../../platform/auth';
import { ECHO_LIMIT } from '../../platform/client-errors';
import { startProduct, type GraphQLResponse, type RunningProduct } from '../support/product';
import { randomSecret } from '../support/secrets';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';

type Body = GraphQLResponse['body'];

/** Nothing internal in an answer: no subgraph URL, no raw response, no stack trace. */
function expectNoInternals(body: unknown, product: RunningProduct): void {
  const text = JSON.stringify(body);
  for (const subgraph of Object.values(product.subgraphs)) expect(text).not.toContain(new URL(subgraph.url).host);
  expect(text).not.toMatch(/"response"|stacktrace|\bat .+\.(js|ts):\d+/);
}

describe('errors in production', () => {
  let product: RunningProduct;
  const admin = () => product.token('admin-prod', 'admin');

  beforeAll(async () => {
    product = await startProduct({ env: { NODE_ENV: 'production', JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret() } });
  });
  afterAll(async () => {
    await product.close();
  });

  async function refusal(query: string, variables: Record<string, unknown> = {}): Promise<NonNullable<Body['errors']>[number]> {
    const { body } = await product.graphql(query, { token: admin(), variables });
    expectNoInternals(body, product);
    const [error] = body.errors ?? [];
    if (!error) throw new Error(`expected an error, got ${JSON.stringify(body)}`);
    return error;
  }

  it.each([
    ['a misspelt field', '{ membr(id: "m-1") { id } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
    ['a misspelt enum value', '{ members(tier: VIPP) { totalCount } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
    ['a misspelt enum value in a variable', 'query($t: MemberTier) { members(tier: $t) { totalCount } }', { t: 'VIPP' }, 'BAD_USER_INPUT'],
    ['a misspelt input field', 'mutation { createMember(input: { emial: "a@b.org", firstName: "A", lastName: "B" }) { id } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
  ])('suggests nothing over HTTP for %s', async (_what, query, variables, code) => {
    const error = await refusal(query, variables);
    expect(error.extensions?.code).toBe(code);
    expect(error.message).not.toMatch(/did you mean/i);
  });

  it('suggests nothing over WebSocket', async () => {
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { token: admin() });
    try {
      const refused = await subscribe(client, { query: 'subscription { memberUpdatd(id: "m-1") { eventType } }' }).take('the refusal');
      expect(refused).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
      expect(JSON.stringify(refused)).not.toMatch(/did you mean/i);
    } finally {
      await client.dispose();
    }
  });

  it('suggests nothing at a subgraph either', async () => {
    const response = await fetch(product.subgraphs.member!.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [GATEWAY_IDENTITY_HEADER]: signForwardedIdentity({ sub: 'admin-prod', role: 'admin', expiresAt: null }, product.config.SUBGRAPH_SECRET),
      },
      body: JSON.stringify({ query: '{ membr(id: "m-1") { id } }' }),
    });
    const body = (await response.json()) as Body;
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors?.[0]?.message).not.toMatch(/did you mean/i);
  });

  it.each([
    ['certifications(expiringBefore: "garbage")', '{ certifications(expiringBefore: "garbage") { totalCount } }', {}, /garbage/],
    ['certifications(expiringBefore: $d) with "garbage"', 'query($d: DateTimeISO) { certifications(expiringBefore: $d) { totalCount } }', { d: 'garbage' }, /garbage/],
    [
      'startReplay from "2024-13-45"',
      'mutation { startReplay(input: { from: "2024-13-45", to: "2024-01-02T00:00:00Z", targets: ["crm"] }) { id } }',
      {},
      /2024-13-45/,
    ],
  ])("answers a subgraph's 400 (%s) as BAD_USER_INPUT with the subgraph's message", async (_what, query, variables, message) => {
    const error = await refusal(query, variables);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(message);
  });

  it('repeats no more than ECHO_LIMIT characters of a huge input, in GraphQL and domain errors alike', async () => {
    const huge = 'Z'.repeat(900_000);
    const literal = await refusal(`{ members(tier: "${huge}") { totalCount } }`);
    const variable = await refusal('query($t: MemberTier) { members(tier: $t) { totalCount } }', { t: huge });
    const domain = await refusal('mutation($name: String!) { rebuildProjection(name: $name) { id } }', { name: huge });
    expect(domain.extensions?.code).toBe('BAD_USER_INPUT');
    for (const error of [literal, variable, domain]) {
      const repeated = JSON.stringify(error).match(/Z+/g) ?? [];
      expect(repeated.length).toBeGreaterThan(0);
      expect(Math.max(...repeated.map((run) => run.length))).toBe(ECHO_LIMIT);
    }
  });

  it('answers a subgraph that is down with UNAVAILABLE, not its URL', async () => {
    await product.subgraphs.analytics!.close();
    const error = await refusal('{ analyticsStatus { position } }');
    expect(error.extensions).toMatchObject({ code: 'UNAVAILABLE' });
    // Errors carry no internal names in extensions, on any transport (gateway/client-errors.ts).
    expect(error.extensions).not.toHaveProperty('serviceName');
    expect(JSON.stringify(error)).not.toMatch(/127\.0\.0\.1|localhost|:\d{4,5}\//);
  });
});
