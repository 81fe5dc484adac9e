// The HTTP side every process shares: fixed routes on Node's http server (404, 405 with Allow,
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
// HEAD, a failing handler) and Apollo Server on one of them, with bad bodies answered in GraphQL's
// shape.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import pino from 'pino';
import { graphqlRoute, pathOf, routedServer, sendJson, type Route } from '../../platform/http-server';

const logger = pino({ level: 'silent' });

async function serve(routes: Record<string, Route>): Promise<{ base: string; server: http.Server }> {
  const server = routedServer(routes, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('pathOf', () => {
  it('drops the query string and a trailing slash', () => {
    expect(pathOf('/graphql?query=%7B__typename%7D')).toBe('/graphql');
    expect(pathOf('/graphql/')).toBe('/graphql');
    expect(pathOf('/')).toBe('/');
    expect(pathOf(undefined)).toBe('/');
  });
});

describe('routedServer', () => {
  let base: string;
  let server: http.Server;
  beforeAll(async () => {
    ({ base, server } = await serve({
      '/health': { methods: ['GET'], handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
      '/broken': {
        methods: ['GET'],
        handle: async () => {
          throw new Error('the handler failed');
        },
      },
    }));
  });
  afterAll(() => close(server));

  it('answers a route, HEAD included, and says what is not there', async () => {
    const health = await fetch(`${base}/health/`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const head = await fetch(`${base}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Nothing at /nowhere.' });
  });

  it('refuses another method with 405 and the methods it takes', async () => {
    const response = await fetch(`${base}/health`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('answers 500 when a handler fails, and keeps serving', async () => {
    const response = await fetch(`${base}/broken`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error.' });
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe('graphqlRoute', () => {
  let base: string;
  let server: http.Server;
  let apollo: ApolloServer<{ caller: string }>;
  beforeAll(async () => {
    apollo = new ApolloServer<{ caller: string }>({
      typeDefs: 'type Query { caller: String! echo(text: String!): String! }',
      resolvers: { Query: { caller: (_: unknown, __: unknown, ctx: { caller: string }) => ctx.caller, echo: (_: unknown, args: { text: string }) => args.text } },
    });
    await apollo.start();
    ({ base, server } = await serve({
      '/graphql': graphqlRoute(apollo, { maxBody: 200, context: async (req) => ({ caller: String(req.headers['x-caller'] ?? 'nobody') }) }),
    }));
  });
  afterAll(async () => {
    await close(server);
    await apollo.stop();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('runs operations over POST and GET, with the context built from the request', async () => {
    const posted = await post(JSON.stringify({ query: '{ caller }' }), { 'x-caller': 'tester' });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toEqual({ data: { caller: 'tester' } });
    const got = await fetch(`${base}/graphql?query=${encodeURIComponent('{ echo(text: "hi") }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await got.json()).toEqual({ data: { echo: 'hi' } });
  });

  it('answers malformed JSON and a body over the limit with a coded GraphQL error', async () => {
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    const malformedBody = (await malformed.json()) as { errors: { extensions: { code: string } }[] };
    expect(malformedBody.errors[0]?.extensions.code).toBe('BAD_REQUEST');

    const large = await post(JSON.stringify({ query: `{ echo(text: "${'x'.repeat(300)}") }` }));
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ errors: [{ message: 'The request body is larger than 200 bytes.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('reads plain JSON directly and every other JSON body through body-parser, with the same answers', async () => {
    const body = JSON.stringify({ query: '{ echo(text: "hé") }' });
    const expected = { data: { echo: 'hé' } };
    // Plain: UTF-8 with a length (the direct path), with or without an explicit charset.
    expect(await (await post(body)).json()).toEqual(expected);
    expect(await (await post(body, { 'content-type': 'application/json; charset=utf-8' })).json()).toEqual(expected);
    // Compressed and chunked bodies go through body-parser.
    const gzipped = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zlib.gzipSync(body) });
    expect(await gzipped.json()).toEqual(expected);
    const chunked = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.toWeb(Readable.from([Buffer.from(body.slice(0, 10)), Buffer.from(body.slice(10))])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(await chunked.json()).toEqual(expected);
    // A charset JSON does not allow is refused (415), as body-parser refuses it.
    const latin1 = await post(body, { 'content-type': 'application/json; charset=latin1' });
    expect(latin1.status).toBe(415);
    // A JSON text that is not an object or array is malformed for GraphQL over HTTP, on both paths.
    const scalar = await post('"query"');
    expect(scalar.status).toBe(400);
    expect(((await scalar.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });

  it("leaves a body that is not JSON to Apollo's own refusal", async () => {
    const response = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ caller }' });
    expect(response.status).toBe(400);
  });
});
