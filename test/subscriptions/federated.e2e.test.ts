// memberUpdated through the gateway with the graphql-ws client: fields from two subgraphs per
// event, cursors, authentication at connection_init, per-member authorization.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { startHarness, type Harness } from './support/harness';
import { waitUntilLive } from './support/live';
import { gatewayClient, subscribe } from './support/ws-client';

const MEMBER_UPDATED = /* GraphQL */ `
  subscription Watch($id: ID!) {
    memberUpdated(id: $id) { eventType occurredAt cursor member { id probe } }
  }
`;

describe('memberUpdated through the gateway', () => {
  let harness: Harness;
  const clients: Client[] = [];
  const client = (params: Record<string, unknown> | undefined, onClosed?: (code: number, reason: string) => void) => {
    const c = gatewayClient(harness.wsUrl(), params, onClosed);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await harness.close();
  });

  it('pushes each event of the member with fields from two subgraphs and its cursor in extensions', async () => {
    const id = `m-${randomUUID()}`;
    const sub = subscribe(client({ authorization: `Bearer ${harness.token(id)}` }), { query: MEMBER_UPDATED, variables: { id } });
    // The subscription is live once the gateway has opened it on the subgraph; an event for
    // someone else must not show up, and ours must.
    await waitUntilLive(harness, id, sub);
    const event = await harness.emit(id, 'membership.renewed');
    const received = await sub.takeNext('the renewal');
    expect(received.cursor).toBe(String(event.position));
    expect(received.data).toEqual({
      memberUpdated: {
        eventType: 'membership.renewed',
        occurredAt: event.occurredAt,
        cursor: String(event.position),
        member: { id, probe: `probe:${id}:for:${id}` },
      },
    });
  });

  it('lets an admin watch any member', async () => {
    const id = `m-${randomUUID()}`;
    const sub = subscribe(client({ token: harness.token('admin-1', 'admin') }), { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, sub);
    await harness.emit(id, 'member.profile.updated');
    const received = await sub.takeNext();
    expect(received.data).toMatchObject({ memberUpdated: { eventType: 'member.profile.updated', member: { id, probe: `probe:${id}:for:admin-1` } } });
  });

  it('refuses a member watching another member with FORBIDDEN', async () => {
    const sub = subscribe(client({ authorization: `Bearer ${harness.token('m-1')}` }), {
      query: MEMBER_UPDATED,
      variables: { id: 'm-2' },
    });
    const refused = await sub.take('the refusal');
    expect(refused.kind).toBe('error');
    expect(refused.kind === 'error' && refused.errors[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it.each([
    ['no token', undefined],
    ['an empty payload', {}],
    ['a token signed with another secret', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtLTEiLCJyb2xlIjoibWVtYmVyIn0.c2lnbmF0dXJl' }],
    ['a malformed authorization', { authorization: 'Basic abc' }],
  ])('closes the connection with 4403 Forbidden on %s', async (_what, params) => {
    let closed: ((value: { code: number; reason: string }) => void) | undefined;
    const closure = new Promise<{ code: number; reason: string }>((resolve) => (closed = resolve));
    const sub = subscribe(client(params, (code, reason) => closed?.({ code, reason })), { query: MEMBER_UPDATED, variables: { id: 'm-1' } });
    await expect(closure).resolves.toEqual({ code: 4403, reason: 'Forbidden' });
    const outcome = await sub.take('the close');
    expect(outcome).toMatchObject({ kind: 'closed', code: 4403 });
  });

  it('closes with 4403 on an expired token', async () => {
    let closed: ((code: number) => void) | undefined;
    const closure = new Promise<number>((resolve) => (closed = resolve));
    subscribe(
      client({ token: harness.token('m-1', 'member', { nowSeconds: Math.floor(Date.now() / 1000) - 7200 }) }, (code) => closed?.(code)),
      { query: MEMBER_UPDATED, variables: { id: 'm-1' } },
    );
    await expect(closure).resolves.toBe(4403);
  });

  it('validates against the supergraph and answers errors without closing', async () => {
    const c = client({ token: harness.token('m-1') });
    const invalid = subscribe(c, { query: 'subscription { memberUpdated(id: "m-1") { nope } }' });
    const error = await invalid.take();
    expect(error.kind).toBe('error');
    expect(error.kind === 'error' && error.errors[0]?.message).toMatch(/nope/);
    const query = subscribe(c, { query: '{ __typename }' });
    const refused = await query.take();
    expect(refused.kind === 'error' && refused.errors[0]?.message).toMatch(/HTTP POST/);
    const badCursor = subscribe(c, { query: MEMBER_UPDATED, variables: { id: 'm-1' }, extensions: { cursor: 'yesterday' } });
    const cursorError = await badCursor.take();
    expect(cursorError.kind === 'error' && cursorError.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('serves a document it has validated before to every new subscriber, and refuses a bad one every time', async () => {
    const id = `m-${randomUUID()}`;
    // The same text from two connections: the second is served from the gateway's validated documents.
    const first = subscribe(client({ token: harness.token(id) }), { query: MEMBER_UPDATED, variables: { id } });
    const second = subscribe(client({ token: harness.token(id) }), { query: MEMBER_UPDATED, variables: { id } });
    await waitUntilLive(harness, id, first);
    await waitUntilLive(harness, id, second);
    const event = await harness.emit(id, 'member.profile.updated');
    // The first also got the second's warm-up events: it reaches the event after them, in order.
    let cursor: string | undefined;
    while (cursor !== String(event.position)) cursor = String((await first.takeNext('up to the event')).cursor);
    expect((await second.takeNext()).cursor).toBe(String(event.position));
    const c = client({ token: harness.token(id) });
    for (let i = 0; i < 2; i++) {
      const refused = await subscribe(c, { query: `subscription { memberUpdated(id: "${id}") { nope } }` }).take();
      expect(refused.kind === 'error' && refused.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
  });

  it('holds subscriptions to the same limits on operations as HTTP: aliases and tokens', async () => {
    const c = client({ token: harness.token('m-1') });
    const aliases = Array.from({ length: 31 }, (_, i) => `c${i}: cursor`).join(' ');
    const aliased = await subscribe(c, { query: `subscription { memberUpdated(id: "m-1") { ${aliases} } }` }).take();
    expect(aliased.kind === 'error' && aliased.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(aliased.kind === 'error' && aliased.errors[0]?.message).toMatch(/aliases/i);
    const long = `subscription { memberUpdated(id: "m-1") { ${Array.from({ length: 5100 }, () => 'cursor').join(' ')} } }`;
    const tooLong = await subscribe(c, { query: long }).take();
    expect(tooLong.kind === 'error' && tooLong.errors[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(tooLong.kind === 'error' && tooLong.errors[0]?.message).toMatch(/tokens/);
    // Within the limits the connection works as before.
    const ok = subscribe(c, { query: MEMBER_UPDATED, variables: { id: 'm-1' } });
    await waitUntilLive(harness, 'm-1', ok);
  });
});
