// The GraphQL over WebSocket protocol at the gateway, spoken by hand with a raw `ws` client: each
// close code the protocol defines, and ping/pong. graphql-ws enforces them; this proves the wiring.
import { startHarness, type Harness } from './support/harness';
import { RawClient } from './support/ws-client';

const subscribeMessage = (id: string) => ({
  id,
  type: 'subscribe',
  payload: { query: 'subscription { memberUpdated(id: "m-1") { eventType } }' },
});

describe('graphql-transport-ws protocol at the gateway', () => {
  let harness: Harness;
  const sockets: RawClient[] = [];
  const raw = () => {
    const client = new RawClient(harness.wsUrl());
    sockets.push(client);
    return client;
  };
  const acknowledged = async () => {
    const client = raw();
    await client.opened;
    client.send({ type: 'connection_init', payload: { token: harness.token('m-1') } });
    await expect(client.message('connection_ack')).resolves.toEqual({ type: 'connection_ack' });
    return client;
  };

  beforeAll(async () => {
    harness = await startHarness({ gatewaySubscriptions: { limits: { connectionInitWaitTimeoutMs: 200 } } });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.socket.terminate();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('closes with 4408 when connection_init does not come in time', async () => {
    const client = raw();
    await expect(client.closed).resolves.toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes with 4401 on a subscribe before the connection is acknowledged', async () => {
    const client = raw();
    await client.opened;
    client.send(subscribeMessage('1'));
    await expect(client.closed).resolves.toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes with 4403 when connection_init carries no valid token', async () => {
    const client = raw();
    await client.opened;
    client.send({ type: 'connection_init', payload: { token: 'not-a-jwt' } });
    await expect(client.closed).resolves.toEqual({ code: 4403, reason: 'Forbidden' });
  });

  it('closes with 4429 on a second connection_init', async () => {
    const client = await acknowledged();
    client.send({ type: 'connection_init', payload: { token: harness.token('m-1') } });
    await expect(client.closed).resolves.toEqual({ code: 4429, reason: 'Too many initialisation requests' });
  });

  it('closes with 4409 when a subscription id is reused while active', async () => {
    const client = await acknowledged();
    client.send(subscribeMessage('same'));
    client.send(subscribeMessage('same'));
    await expect(client.closed).resolves.toEqual({ code: 4409, reason: 'Subscriber for same already exists' });
  });

  it.each([
    ['a message that is not JSON', 'hello'],
    ['an unknown message type', { type: 'shout' }],
    ['a subscribe without an id', { type: 'subscribe', payload: { query: '{ __typename }' } }],
  ])('closes with 4400 on %s', async (_what, message) => {
    const client = await acknowledged();
    client.send(message);
    const closed = await client.closed;
    expect(closed.code).toBe(4400);
  });

  it('closes with 4406 when the client does not speak graphql-transport-ws', async () => {
    const client = new RawClient(harness.wsUrl(), null);
    sockets.push(client);
    await expect(client.closed).resolves.toMatchObject({ code: 4406 });
  });

  it('answers ping with pong (with and without payload), before and after the ack', async () => {
    const client = raw();
    await client.opened;
    client.send({ type: 'ping' });
    await expect(client.message('pong')).resolves.toEqual({ type: 'pong' });
    client.send({ type: 'connection_init', payload: { token: harness.token('m-1') } });
    await client.message('connection_ack');
    client.send({ type: 'ping', payload: { n: 1 } });
    await expect(client.message('pong')).resolves.toEqual({ type: 'pong', payload: { n: 1 } });
  });
});
