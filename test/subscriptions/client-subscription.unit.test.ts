// One client's side of a subscription: events written to its socket as graphql-ws `next` messages,
// a bounded number waiting for a slow socket, and every ending told to the client through the
// iterator graphql-ws holds, with the cursor to resume from where one is needed.
import { GraphQLError } from 'graphql';
import { QueueOverflowError } from '../../messaging/live/bounded-queue';
import { ClientSubscription } from '../../gateway/subscriptions/client-subscription';
import { UpstreamInterrupted, type FederatedResult } from '../../gateway/subscriptions/federated-upstream';

/** A socket that takes messages only when told to (a slow reader), or fails them (a closed one). */
function fakeSocket() {
  const sent: string[] = [];
  const waiting: ((error?: Error) => void)[] = [];
  return {
    sent,
    socket: {
      send: (message: string, written: (error?: Error) => void) => {
        sent.push(message);
        waiting.push(written);
      },
    },
    /** The socket takes everything written so far. */
    drain: () => waiting.splice(0).forEach((written) => written()),
    /** The socket turns out to be closed. */
    fail: () => waiting.splice(0).forEach((written) => written(new Error('WebSocket is not open'))),
  };
}

const event = (cursor: string): FederatedResult => ({
  cursor,
  result: { data: { memberUpdated: { cursor } }, extensions: { cursor } },
});

describe('ClientSubscription', () => {
  it('writes each event as a next message under its subscription id, the payload serialized once for all clients', () => {
    const a = fakeSocket();
    const b = fakeSocket();
    const one = new ClientSubscription('a"1', a.socket, 10, null, () => undefined);
    const other = new ClientSubscription('b', b.socket, 10, null, () => undefined);
    const shared = event('7');
    expect(one.push(shared)).toBe(true);
    expect(other.push(shared)).toBe(true);
    expect(a.sent.map((m) => JSON.parse(m) as unknown)).toEqual([{ id: 'a"1', type: 'next', payload: shared.result }]);
    expect(JSON.parse(b.sent[0] ?? '')).toEqual({ id: 'b', type: 'next', payload: shared.result });
    expect(one.cursor).toBe('7');

    // Serialized once: a second client of the same event does not stringify it again.
    let serializations = 0;
    const counted: FederatedResult = { cursor: '8', result: { data: { toJSON: () => (serializations++, { n: 8 }) } } };
    one.push(counted);
    other.push(counted);
    expect(serializations).toBe(1);
    expect(JSON.parse(b.sent[1] ?? '')).toEqual({ id: 'b', type: 'next', payload: { data: { n: 8 } } });
  });

  it('ends with an overflow naming the last cursor written when a slow socket holds a full buffer', async () => {
    const client = fakeSocket();
    let closed = 0;
    const subscription = new ClientSubscription('s', client.socket, 2, '3', () => closed++);
    const ending = subscription.next();
    expect(subscription.push(event('4'))).toBe(true);
    expect(subscription.push(event('5'))).toBe(true);
    expect(subscription.push(event('6'))).toBe(false); // two wait on the socket: no room for a third
    expect(client.sent).toHaveLength(2);
    expect(closed).toBe(1);
    const error = await ending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toMatchObject({ code: 'SUBSCRIPTION_OVERFLOW', cursor: '5' });
    expect(subscription.push(event('7'))).toBe(false);
    await expect(subscription.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('keeps writing while the socket keeps up', () => {
    const client = fakeSocket();
    const subscription = new ClientSubscription('s', client.socket, 2, null, () => undefined);
    for (let i = 1; i <= 10; i++) {
      expect(subscription.push(event(String(i)))).toBe(true);
      client.drain();
    }
    expect(client.sent).toHaveLength(10);
  });

  it('completes when the upstream completes, and tells an interrupted one where to resume', async () => {
    const done = new ClientSubscription('s', fakeSocket().socket, 5, null, () => undefined);
    const completion = done.next();
    done.end();
    await expect(completion).resolves.toEqual({ value: undefined, done: true });

    const interrupted = new ClientSubscription('s', fakeSocket().socket, 5, null, () => undefined);
    interrupted.push(event('12'));
    interrupted.end(new UpstreamInterrupted('the subgraph connection closed with 1012'));
    const error = await interrupted.next().catch((e: unknown) => e);
    expect((error as GraphQLError).extensions).toMatchObject({ code: 'SUBSCRIPTION_INTERRUPTED', cursor: '12' });
  });

  it('passes a termination on (token expiry) and an overflow of the upstream backlog with its own cursor', async () => {
    const expired = new ClientSubscription('s', fakeSocket().socket, 5, null, () => undefined);
    const ending = expired.next();
    expired.terminate(new GraphQLError('Your token expired', { extensions: { code: 'UNAUTHENTICATED' } }));
    await expect(ending).rejects.toThrow('Your token expired');
    expect(expired.push(event('1'))).toBe(false);

    const behind = new ClientSubscription('s', fakeSocket().socket, 5, '20', () => undefined);
    behind.end(new QueueOverflowError(5));
    const error = await behind.next().catch((e: unknown) => e);
    expect((error as GraphQLError).extensions).toMatchObject({ code: 'SUBSCRIPTION_OVERFLOW', cursor: '20' });
  });

  it('stops writing when the client completes or its socket is closed', async () => {
    const client = fakeSocket();
    let closed = 0;
    const completed = new ClientSubscription('s', client.socket, 5, null, () => closed++);
    const ending = completed.next();
    await completed.return();
    await expect(ending).resolves.toEqual({ value: undefined, done: true });
    expect(completed.push(event('1'))).toBe(false);
    expect(closed).toBe(1);

    const gone = fakeSocket();
    const onClosedSocket = new ClientSubscription('s', gone.socket, 5, null, () => closed++);
    onClosedSocket.push(event('1'));
    gone.fail();
    expect(onClosedSocket.push(event('2'))).toBe(false);
    expect(gone.sent).toHaveLength(1);
    expect(closed).toBe(2);
  });
});
