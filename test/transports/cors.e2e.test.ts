// A browser app on another origin calling the gateway: preflights, allowed and refused origins,
// and GET queries with a token (urql's default) served while simple requests stay CSRF-guarded;
// queries from urql and Apollo Client with their defaults.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Client, fetchExchange } from '@urql/core';
import { startProduct, type RunningProduct } from '../support/product';

const APP = 'https://app.example.com';

describe('CORS and GET at the gateway', () => {
  let product: RunningProduct;

  beforeAll(async () => {
    product = await startProduct({ env: { CORS_ORIGINS: `${APP},http://localhost:*` } });
  });
  afterAll(async () => {
    await product.close();
  });

  const preflight = (origin: string, requestHeaders = 'authorization, content-type') =>
    fetch(product.gateway.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
    });

  it('answers a preflight from an allowed origin with 204 and what may be sent', async () => {
    const response = await preflight(APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')?.split(', ')).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE']));
    expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'apollo-require-preflight', 'x-correlation-id', 'x-graphql-event-stream-token', 'last-event-id']),
    );
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('allows any port of localhost when configured so', async () => {
    const response = await preflight('http://localhost:5173');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('refuses a preflight and a request from an origin not allowed, saying what to configure', async () => {
    const refused = await preflight('https://evil.example.net');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const body = (await refused.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0]?.message).toMatch(/CORS_ORIGINS/);

    const request = await product.graphql('{ __typename }', { token: product.token('m-1'), headers: { origin: 'https://evil.example.net' } });
    expect(request.status).toBe(403);
  });

  it('serves a POST from an allowed origin with its CORS headers and the correlation id readable', async () => {
    const response = await product.graphql('{ viewer { id } }', { token: product.token('m-1'), headers: { origin: APP } });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ viewer: { id: 'm-1' } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/x-correlation-id/);
  });

  it('serves a GET query carrying a token, as urql sends it', async () => {
    const url = `${product.gateway.url}?query=${encodeURIComponent('query Me { viewer { id role } }')}&operationName=Me`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${product.token('m-1')}`, accept: 'application/graphql-response+json, application/json', origin: APP } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { id: 'm-1', role: 'MEMBER' } } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('still refuses simple requests as potential CSRF: a GET with neither token nor preflight header, a text/plain POST', async () => {
    const get = await fetch(`${product.gateway.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
    const post = await fetch(product.gateway.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(post.status).toBe(400);
  });

  it('refuses a mutation sent as GET', async () => {
    const url = `${product.gateway.url}?query=${encodeURIComponent('mutation { __typename }')}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${product.token('m-1')}` } });
    expect(response.status).toBe(405);
  });
});

describe('queries from the clients, with their defaults', () => {
  let product: RunningProduct;
  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  it("answers urql's GET query carrying a token", async () => {
    const sent: string[] = [];
    const client = new Client({
      url: product.gateway.url,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${product.token('m-1')}` } },
      // Record the method urql chose (its default sends queries as GET).
      fetch: (input, init) => {
        sent.push(init?.method ?? 'GET');
        return fetch(input, init);
      },
    });
    const result = await client.query('query Me { viewer { id role } }', {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ viewer: { id: 'm-1', role: 'MEMBER' } });
    expect(sent).toEqual(['GET']);
  });

  it("answers Apollo Client's HttpLink query", async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: product.gateway.url, headers: { authorization: `Bearer ${product.token('m-1')}` } }), cache: new InMemoryCache() });
    const result = await client.query<{ viewer: { id: string } }>({ query: gql`query Me { viewer { id } }` });
    expect(result.data?.viewer.id).toBe('m-1');
    client.stop();
  });
});
