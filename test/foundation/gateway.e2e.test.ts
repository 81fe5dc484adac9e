import { getIntrospectionQuery } from 'graphql';
import { mintClientToken } from '../../platform/auth';
import { startProduct, type RunningProduct } from '../support/product';
import { randomSecret } from '../support/secrets';

describe('gateway', () => {
  let product: RunningProduct;
  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  it('answers a query that spans all four subgraphs', async () => {
    const { status, body } = await product.graphql(
      '{ viewer { id role } products { sku priceCents } certificationTypes { code validityMonths } eventContracts { type version } }',
      { token: product.token('m1', 'member') },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const data = body.data as {
      viewer: { id: string; role: string };
      products: { sku: string }[];
      certificationTypes: { code: string }[];
      eventContracts: { type: string }[];
    };
    expect(data.viewer).toEqual({ id: 'm1', role: 'MEMBER' });
    expect(data.products.map((p) => p.sku)).toContain('MEM-PREMIUM-12');
    expect(data.certificationTypes.map((c) => c.code)).toContain('CPA');
    expect(data.eventContracts.map((c) => c.type)).toContain('member.profile.updated');
  });

  it('refuses operations beyond the limits (depth, aliases, tokens), naming the limit; introspection is not held to the depth', async () => {
    const token = product.token('m1', 'member');
    // Certification.member and Member.certifications make a cycle: 4 rounds go 18 levels deep.
    let selection = 'id';
    for (let i = 0; i < 4; i++) selection = `certifications { edges { node { member { ${selection} } } } }`;
    const deep = await product.graphql(`{ member(id: "m1") { ${selection} } }`, { token });
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(deep.body.errors?.[0]?.message).toMatch(/depth/i);

    const aliases = Array.from({ length: 31 }, (_, i) => `p${i}: products { sku }`).join(' ');
    const aliased = await product.graphql(`{ ${aliases} }`, { token });
    expect(aliased.status).toBe(400);
    expect(aliased.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(aliased.body.errors?.[0]?.message).toMatch(/aliases/i);

    const long = await product.graphql(`{ products { ${Array.from({ length: 5100 }, () => 'sku').join(' ')} } }`, { token });
    expect(long.status).toBe(400);
    expect(long.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(long.body.errors?.[0]?.message).toMatch(/tokens/);

    // Within the limits: a shallower cycle, and Sandbox's introspection query (deeper than 12).
    const shallow = await product.graphql(`{ member(id: "m1") { certifications { edges { node { member { id } } } } } }`, { token });
    expect(shallow.body.errors?.find((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')).toBeUndefined();
    const introspection = await product.graphql(getIntrospectionQuery(), { token });
    expect(introspection.status).toBe(200);
    expect(introspection.body.errors).toBeUndefined();
  });

  it('refuses a field that needs a token when none is sent, with UNAUTHENTICATED', async () => {
    const { body } = await product.graphql('{ viewer { id } }');
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.data).toBeNull();
  });

  it('refuses a token with a bad signature with 401 UNAUTHENTICATED and no stack trace', async () => {
    const forged = mintClientToken({ sub: 'm1', role: 'admin' }, 'another-secret-that-is-long-enough-0000');
    const { status, body } = await product.graphql('{ products { sku } }', { token: forged });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.errors?.[0]?.message).toMatch(/signature/);
    expect(JSON.stringify(body)).not.toMatch(/stacktrace/);
  });

  it('refuses an expired token', async () => {
    const expired = mintClientToken({ sub: 'm1', role: 'member' }, product.config.JWT_SECRET, {
      nowSeconds: Math.floor(Date.now() / 1000) - 7200,
      expiresInSeconds: 60,
    });
    const { status, body } = await product.graphql('{ products { sku } }', { token: expired });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toMatch(/expired/);
  });

  it('refuses a malformed Authorization header', async () => {
    const { status, body } = await product.graphql('{ products { sku } }', { headers: { authorization: 'Basic abc' } });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('keeps the caller correlation id and echoes it', async () => {
    const { headers } = await product.graphql('{ products { sku } }', { headers: { 'x-correlation-id': 'corr-123' } });
    expect(headers.get('x-correlation-id')).toBe('corr-123');
  });

  it('has a subgraph refuse a direct call without the gateway signature (401)', async () => {
    const response = await fetch(product.subgraphs.member!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('has a subgraph refuse a forged gateway signature (403)', async () => {
    const response = await fetch(product.subgraphs.payment!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gateway-identity': 'not-a-signature' },
      body: JSON.stringify({ query: '{ products { sku } }' }),
    });
    expect(response.status).toBe(403);
  });

  it('reports alive on /health and ready on /ready when every subgraph answers', async () => {
    const base = new URL(product.gateway.url).origin;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      subgraphs: { member: 'ok', payment: 'ok', certification: 'ok', analytics: 'ok' },
    });
  });

  it('offers Sandbox and the offline explorer in development: GET / links both, /graphql is Sandbox', async () => {
    const base = new URL(product.gateway.url).origin;
    const landing = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(landing.status).toBe(200);
    const html = await landing.text();
    expect(html).toContain('href="/console/#/explorer"');
    expect(html).toContain('href="/graphql"');
    const sandbox = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(sandbox.status).toBe(200);
    expect(await sandbox.text()).toMatch(/embeddable-sandbox|sandbox/i);
  });

  it('answers introspection in development', async () => {
    const { body } = await product.graphql('{ __schema { queryType { name } } }');
    expect(body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

describe('gateway in production', () => {
  let product: RunningProduct;
  beforeAll(async () => {
    product = await startProduct({
      env: {
        NODE_ENV: 'production',
        JWT_SECRET: randomSecret(),
        SUBGRAPH_SECRET: randomSecret(),
      },
    });
  });
  afterAll(async () => {
    await product.close();
  });

  it('serves no Sandbox page', async () => {
    const base = new URL(product.gateway.url).origin;
    const root = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(root.status).toBe(404);
    // Nor the console (CONSOLE_ENABLED is off by default in production).
    expect((await fetch(`${base}/console/`, { headers: { accept: 'text/html' } })).status).toBe(404);
    const graphqlPage = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(await graphqlPage.text()).not.toMatch(/embeddable-sandbox/i);
  });

  it('refuses introspection', async () => {
    const { body } = await product.graphql('{ __schema { queryType { name } } }');
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('gateway readiness', () => {
  it('reports 503 on /ready naming the subgraph that does not answer', async () => {
    const product = await startProduct();
    try {
      await product.subgraphs.analytics!.close();
      const ready = await fetch(`${new URL(product.gateway.url).origin}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { subgraphs: Record<string, string> };
      expect(body.subgraphs.member).toBe('ok');
      expect(body.subgraphs.analytics).not.toBe('ok');
    } finally {
      await product.close();
    }
  });
});
