// Token lifetimes through the gateway: a client token without `exp`, or living longer than
// JWT_MAX_LIFETIME_SECONDS, is refused over HTTP (UNAUTHENTICATED) and WebSocket (4403); a
// subgraph refuses a gateway signature living longer than the 60 s a gateway signs for.
import jwt from 'jsonwebtoken';
import { GATEWAY_IDENTITY_HEADER, mintClientToken } from '../../platform/auth';
import { startProduct, type RunningProduct } from '../support/product';
import { RawClient } from '../subscriptions/support/ws-client';

const MAX_LIFETIME = 600;

describe('token lifetimes', () => {
  let product: RunningProduct;
  const sockets: RawClient[] = [];

  beforeAll(async () => {
    product = await startProduct({ env: { JWT_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME) } });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.socket.terminate();
  });
  afterAll(async () => {
    await product.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const clientToken = (claims: Record<string, unknown>) =>
    jwt.sign({ sub: 'm-1', role: 'member', iat: now(), ...claims }, product.config.JWT_SECRET, { algorithm: 'HS256', audience: 'membership-api' });

  const tokens = {
    'without exp': () => clientToken({}),
    'living longer than JWT_MAX_LIFETIME_SECONDS': () => mintClientToken({ sub: 'm-1', role: 'member' }, product.config.JWT_SECRET, { expiresInSeconds: MAX_LIFETIME + 1 }),
  };

  it.each(Object.keys(tokens) as (keyof typeof tokens)[])('refuses a token %s over HTTP with UNAUTHENTICATED', async (kind) => {
    const { status, body } = await product.graphql('{ viewer { id } }', { token: tokens[kind]() });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each(Object.keys(tokens) as (keyof typeof tokens)[])('refuses a token %s over WebSocket with 4403', async (kind) => {
    const client = new RawClient(product.gateway.url.replace(/^http/, 'ws'));
    sockets.push(client);
    await client.opened;
    client.send({ type: 'connection_init', payload: { token: tokens[kind]() } });
    await expect(client.closed).resolves.toEqual({ code: 4403, reason: 'Forbidden' });
  });

  it('takes a token within the limit', async () => {
    const token = mintClientToken({ sub: 'm-1', role: 'member' }, product.config.JWT_SECRET, { expiresInSeconds: MAX_LIFETIME });
    const { body } = await product.graphql('{ viewer { id } }', { token });
    expect(body.errors).toBeUndefined();
  });

  it('has a subgraph refuse a gateway signature living a year, though signed with the right secret', async () => {
    const signature = jwt.sign({ sub: 'admin-1', role: 'admin', cexp: null, iat: now(), exp: now() + 365 * 86_400 }, product.config.SUBGRAPH_SECRET, {
      algorithm: 'HS256',
      audience: 'membership-subgraph',
    });
    const response = await fetch(product.subgraphs.member!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [GATEWAY_IDENTITY_HEADER]: signature },
      body: JSON.stringify({ query: '{ members { totalCount } }' }),
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/longer than the 60 s/) });
  });
});
