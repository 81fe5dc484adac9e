// The gateway's subgraph calls (undici): what a subgraph receives (the operation, the signed identity
// and correlation id) and how each kind of failure comes back to the gateway's query plan: coded,
// naming the subgraph, never with its URL or raw answer; a 400 as the client's BAD_USER_INPUT.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, verifyForwardedIdentity } from '../../platform/auth';
import type { GatewayContext } from '../../gateway/context';
import { SignedSubgraphDataSource } from '../../gateway/subgraph-data-source';
import { freePort } from '../support/ports';

const SECRET = 'subgraph-secret-for-tests-0123456789abcdef';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** A stand-in subgraph answering what the test tells it to, keeping what it received. */
async function fakeSubgraph(answer: (res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) as unknown });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function call(source: SignedSubgraphDataSource, context: GatewayContext, query = 'query Q($id: ID!) { member(id: $id) { id } }') {
  const options = {
    // GraphQLDataSourceRequestKind.INCOMING_OPERATION (@apollo/gateway exports the enum as a type only).
    kind: 'incoming operation',
    request: { query, variables: { id: 'm-1' }, operationName: 'Q' },
    context,
    incomingRequestContext: { context } as never,
  } as GraphQLDataSourceProcessOptions<GatewayContext>;
  return source.process(options);
}

const member: GatewayContext = { identity: { sub: 'm-1', role: 'member', expiresAt: null }, correlationId: 'corr-42' };

describe('SignedSubgraphDataSource', () => {
  it('sends the operation with a signed identity and the correlation id, and returns the answer', async () => {
    const subgraph = await fakeSubgraph((res) => {
      res.setHeader('content-type', 'application/graphql-response+json; charset=utf-8');
      res.end(JSON.stringify({ data: { member: { id: 'm-1' } } }));
    });
    try {
      const response = await call(new SignedSubgraphDataSource(subgraph.url, SECRET), member);
      expect(response.data).toEqual({ member: { id: 'm-1' } });
      const [request] = subgraph.received;
      expect(request?.body).toEqual({ query: 'query Q($id: ID!) { member(id: $id) { id } }', variables: { id: 'm-1' }, operationName: 'Q' });
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers[CORRELATION_ID_HEADER]).toBe('corr-42');
      const forwarded = verifyForwardedIdentity(String(request?.headers[GATEWAY_IDENTITY_HEADER]), SECRET);
      expect(forwarded).toEqual({ sub: 'm-1', role: 'member', expiresAt: null });
    } finally {
      await subgraph.close();
    }
  });

  /** A subgraph answering `status` with `body`; what the data source made of it (answer or error). */
  async function outcome(status: number, body: string, contentType = 'application/json'): Promise<{ answer?: unknown; error?: GraphQLError; url: string }> {
    const subgraph = await fakeSubgraph((res) => {
      res.statusCode = status;
      res.setHeader('content-type', contentType);
      res.end(body);
    });
    try {
      const answer = await call(new SignedSubgraphDataSource(subgraph.url, SECRET, 'certification'), member);
      return { answer, url: subgraph.url };
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      return { error: error as GraphQLError, url: subgraph.url };
    } finally {
      await subgraph.close();
    }
  }

  it("answers a subgraph's 400 as the client's BAD_USER_INPUT with the subgraph's message, and nothing of the subgraph's document", async () => {
    const subgraphError = {
      message: 'DateTime cannot represent an invalid date-time-string garbage.',
      locations: [{ line: 1, column: 32 }],
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    };
    const { answer, url } = await outcome(400, JSON.stringify({ errors: [subgraphError] }));
    expect(answer).toEqual({
      errors: [{ message: 'DateTime cannot represent an invalid date-time-string garbage.', extensions: { code: 'BAD_USER_INPUT' } }],
    });
    expect(JSON.stringify(answer)).not.toContain(url);
  });

  it('answers a 400 that is not GraphQL as BAD_USER_INPUT naming only the subgraph', async () => {
    const { answer } = await outcome(400, '<html>Bad Request at http://10.0.0.7:4003</html>', 'text/html');
    expect(answer).toEqual({ errors: [{ message: 'The certification subgraph refused the request as invalid.', extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it.each([
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [500, 'INTERNAL_SERVER_ERROR'],
    [502, 'UNAVAILABLE'],
    [503, 'UNAVAILABLE'],
  ])('reports a %i coded %s, naming the subgraph, never its URL or raw answer', async (status, code) => {
    const { error, url } = await outcome(status, JSON.stringify({ errors: [{ message: 'The gateway signature is not valid.' }], secretDetail: 'raw-body-marker' }));
    expect(error?.extensions).toEqual({ code, serviceName: 'certification' });
    expect(error?.message).toMatch(/certification subgraph/);
    expect(JSON.stringify(error)).not.toContain(url);
    expect(JSON.stringify(error)).not.toContain('raw-body-marker');
  });

  it('refuses an answer that is not a JSON object, without repeating it', async () => {
    const { error } = await outcome(200, 'upstream says hello', 'text/plain');
    expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', serviceName: 'certification' });
    expect(error?.message).not.toContain('upstream says hello');
  });

  it('reports a subgraph it could not reach as UNAVAILABLE, naming it but not its URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}/graphql`;
    const error = (await call(new SignedSubgraphDataSource(url, SECRET, 'payment'), member).catch((e: unknown) => e)) as GraphQLError;
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('The payment subgraph could not be reached: try again shortly.');
    expect(error.extensions).toEqual({ code: 'UNAVAILABLE', serviceName: 'payment' });
  });

  const refusal = (res: http.ServerResponse) => {
    res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ errors: [{ message: 'The server is shutting down and did not run this request: send it again.', extensions: { code: 'UNAVAILABLE' } }] }));
  };

  it("sends a call again when a draining subgraph refused it unexecuted (503 UNAVAILABLE)", async () => {
    let calls = 0;
    const subgraph = await fakeSubgraph((res) => {
      if (++calls === 1) return refusal(res);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { member: { id: 'm-1' } } }));
    });
    try {
      const response = await call(new SignedSubgraphDataSource(subgraph.url, SECRET), member, 'mutation Q { renew }');
      expect(response.data).toEqual({ member: { id: 'm-1' } });
      expect(subgraph.received).toHaveLength(2);
    } finally {
      await subgraph.close();
    }
  });

  it('reports UNAVAILABLE once every attempt was refused', async () => {
    const subgraph = await fakeSubgraph(refusal);
    try {
      const error = await call(new SignedSubgraphDataSource(subgraph.url, SECRET), member, 'mutation Q { renew }').catch((e: unknown) => e);
      expect((error as GraphQLError).extensions).toEqual({ code: 'UNAVAILABLE', serviceName: 'subgraph' });
      expect(subgraph.received).toHaveLength(3);
    } finally {
      await subgraph.close();
    }
  });

  it('does not send a mutation again after its connection closed unanswered (it may have run), but does a query', async () => {
    const hangUp = (res: http.ServerResponse) => res.socket?.destroy();
    const subgraph = await fakeSubgraph(hangUp);
    try {
      const error = await call(new SignedSubgraphDataSource(subgraph.url, SECRET), member, 'mutation Q { renew }').catch((e: unknown) => e);
      expect((error as GraphQLError).extensions.code).toBe('UNAVAILABLE');
      expect((error as GraphQLError).message).toMatch(/the mutation may have run; check before sending it again/);
      expect(subgraph.received).toHaveLength(1);

      const queryError = await call(new SignedSubgraphDataSource(subgraph.url, SECRET), member).catch((e: unknown) => e);
      expect((queryError as GraphQLError).extensions.code).toBe('UNAVAILABLE');
      expect(subgraph.received).toHaveLength(4);
    } finally {
      await subgraph.close();
    }
  });
});
