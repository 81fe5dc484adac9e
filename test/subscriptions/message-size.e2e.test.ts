// WebSocket message size at the gateway and the subgraphs: a message bigger than the limit closes
// the socket with 1009 (message too big), decided from the frame header, so a client announcing
// 90 MB is refused before it has sent any of them; a message of exactly the limit is taken.
import { startHarness, type Harness } from './support/harness';
import { RawClient } from './support/ws-client';
import { eventually } from '../support/wait';

const LIMIT = 64 * 1024;
const MESSAGE_TOO_BIG = 1009;
const NINETY_MB = 90 * 1024 * 1024;

/** A connection_init message of exactly `bytes` bytes (padded in its payload). */
function connectionInitOf(bytes: number, token: string): string {
  const bare = JSON.stringify({ type: 'connection_init', payload: { token, pad: '' } });
  return JSON.stringify({ type: 'connection_init', payload: { token, pad: 'x'.repeat(bytes - Buffer.byteLength(bare)) } });
}

describe('WebSocket message size', () => {
  let harness: Harness;
  const sockets: RawClient[] = [];
  const raw = async (url: string) => {
    const client = new RawClient(url);
    sockets.push(client);
    await client.opened;
    return client;
  };

  // graphql-ws would report ws's 1009 as an internal error on the console; the gateway answers it quietly.
  let consoleError: jest.SpyInstance;
  beforeAll(async () => {
    consoleError = jest.spyOn(console, 'error');
    harness = await startHarness({ gatewaySubscriptions: { limits: { maxPayloadBytes: LIMIT } } });
  });
  afterAll(() => {
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.socket.terminate();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('closes an unauthenticated gateway socket with 1009 from the header of a 90 MB message, before any of it is sent', async () => {
    const clients = await Promise.all([1, 2, 3, 4].map(() => raw(harness.wsUrl())));
    for (const client of clients) client.announceMessage(NINETY_MB);
    for (const client of clients) await expect(client.closed).resolves.toMatchObject({ code: MESSAGE_TOO_BIG });
    await eventually(() => harness.gateways[0]!.subscriptions.connectionCount === 0, 'the gateway to let go of the sockets');
  });

  it('closes a gateway socket with 1009 on a message one byte over the limit', async () => {
    const client = await raw(harness.wsUrl());
    client.send(connectionInitOf(LIMIT + 1, harness.token('m-1')));
    await expect(client.closed).resolves.toMatchObject({ code: MESSAGE_TOO_BIG });
  });

  it('takes a message of exactly the limit', async () => {
    const client = await raw(harness.wsUrl());
    client.send(connectionInitOf(LIMIT, harness.token('m-1')));
    await expect(client.message('connection_ack')).resolves.toEqual({ type: 'connection_ack' });
  });

  it('closes a subgraph socket with 1009 from the header of a message over its limit (1 MiB by default)', async () => {
    const subgraph = harness.members[0]!.url.replace(/^http/, 'ws');
    const huge = await raw(subgraph);
    huge.announceMessage(NINETY_MB);
    await expect(huge.closed).resolves.toMatchObject({ code: MESSAGE_TOO_BIG });
    const justOver = await raw(subgraph);
    justOver.announceMessage(1_048_576 + 1);
    await expect(justOver.closed).resolves.toMatchObject({ code: MESSAGE_TOO_BIG });
  });
});
