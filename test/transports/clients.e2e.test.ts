// Frontend clients from npm through the gateway, on every transport it serves: Apollo Client
// (HttpLink's multipart subscriptions, GraphQLWsLink), urql (fetchSubscriptions, which takes SSE;
// subscriptionExchange over graphql-ws) and graphql-sse's client (both modes). Each receives a
// memberUpdated carrying a field another subgraph owns (Member.rewardPoints, analytics) and its
// cursor, resumes after its connection is cut with no gap and no duplicate, and is refused without
// a token.
import { randomUUID } from 'node:crypto';
import { SeverableProxy } from '../support/severable-proxy';
import { startProduct, type RunningProduct } from '../support/product';
import { clients, Inbox, type ClientUnderTest, type MemberUpdate } from './support/clients';

describe.each(clients.map((c) => [c.name, c] as const))('%s', (_name, client: ClientUnderTest) => {
  let product: RunningProduct;
  let proxy: SeverableProxy;
  let proxyUrl: string;
  const stops: (() => void)[] = [];
  const admin = () => product.token('root', 'admin');

  beforeAll(async () => {
    product = await startProduct();
    proxy = new SeverableProxy(new URL(product.gateway.url));
    proxyUrl = `http://127.0.0.1:${await proxy.listen()}/graphql`;
  });
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });
  afterAll(async () => {
    await proxy.close();
    await product.close();
  });

  async function newMember(): Promise<string> {
    const id = `fe-${randomUUID()}`;
    const created = await product.graphql(`mutation($id: ID!) { createMember(input: { id: $id, email: "${id}@example.org", firstName: "Fe", lastName: "Client" }) { id } }`, {
      token: admin(),
      variables: { id },
    });
    expect(created.body.errors).toBeUndefined();
    return id;
  }

  /** One membership.renewed event for the member, traced by a correlation id of our own. */
  async function renew(id: string): Promise<string> {
    const correlationId = `renew-${randomUUID()}`;
    const renewed = await product.graphql(`mutation($id: ID!) { renewMembership(id: $id, input: { months: 1 }) { id } }`, {
      token: admin(),
      variables: { id },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(renewed.body.errors).toBeUndefined();
    return correlationId;
  }

  function subscribe(url: string, memberId: string, options: { token?: string | null; cursor?: string | null } = {}): Inbox {
    const inbox = new Inbox();
    const token = options.token === undefined ? product.token(memberId) : options.token;
    stops.push(client.subscribe({ url, token, memberId, cursor: options.cursor ?? null, inbox }));
    return inbox;
  }

  /** Renew until an event arrives (the subscription is live), then take the rest of the warm-up. */
  async function untilLive(inbox: Inbox, id: string): Promise<MemberUpdate> {
    const sent: string[] = [];
    for (let attempt = 1; attempt <= 50; attempt++) {
      sent.push(await renew(id));
      const first = await inbox.poll(200);
      if (!first) continue;
      if (first.kind !== 'next') throw new Error(`failed while warming up: ${JSON.stringify(first)}`);
      let last = first.update;
      while (last.correlationId !== sent[sent.length - 1]) last = (await inbox.takeUpdate('the rest of the warm-up')).update;
      return last;
    }
    throw new Error('the subscription never went live');
  }

  it('receives memberUpdated with a field from another subgraph and the cursor in extensions', async () => {
    const id = await newMember();
    const inbox = subscribe(product.gateway.url, id);
    await untilLive(inbox, id);
    const correlationId = await renew(id);
    const received = await inbox.takeUpdate('the renewal');
    expect(received.update).toMatchObject({ eventType: 'membership.renewed', correlationId, member: { id, firstName: 'Fe' } });
    expect(typeof received.update.member.rewardPoints).toBe('number'); // resolved by the analytics subgraph
    expect(received.update.cursor).toMatch(/^\d+$/);
    // Apollo Client keeps extensions to itself on some links; where a client shows them, the cursor is there.
    if (received.extensionsCursor !== undefined) expect(received.extensionsCursor).toBe(received.update.cursor);
  });

  it('resumes after its connection is cut with no gap and no duplicate', async () => {
    const id = await newMember();
    const inbox = subscribe(proxyUrl, id);
    await untilLive(inbox, id);
    const a = await renew(id);
    const seen = await inbox.takeUpdate('the event before the cut');
    expect(seen.update.correlationId).toBe(a);

    proxy.cut(0);
    const cut = await inbox.take('the cut to reach the client');
    expect(cut.kind === 'error' || cut.kind === 'complete').toBe(true);
    for (const stop of stops.splice(0)) stop();

    const missed = [await renew(id), await renew(id)];
    const resumed = subscribe(proxyUrl, id, { cursor: seen.update.cursor });
    const replayed = [(await resumed.takeUpdate('the first missed event')).update, (await resumed.takeUpdate('the second missed event')).update];
    expect(replayed.map((u) => u.correlationId)).toEqual(missed);
    expect(Number(replayed[0]?.cursor)).toBeGreaterThan(Number(seen.update.cursor));
    const live = await renew(id);
    expect((await resumed.takeUpdate('the live event after the catch-up')).update.correlationId).toBe(live);
  });

  it('is refused without a token', async () => {
    const id = await newMember();
    const inbox = subscribe(product.gateway.url, id, { token: null });
    const refused = await inbox.take('the refusal');
    expect(refused.kind).toBe('error');
  });
});
