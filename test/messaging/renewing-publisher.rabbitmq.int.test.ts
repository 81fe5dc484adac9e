// A publisher whose message the broker rejects moves to a new channel, on a real broker (in this
// file's vhost). A queue that refuses every message (x-max-length 0, reject-publish) makes RabbitMQ
// nack; the cluster test is where a channel left refusing after a quorum leader's death is met.
import { Connection, type Publisher, type PublisherProps } from 'rabbitmq-client';
import { isRejection, RenewingPublisher } from '../../messaging/bus/renewing-publisher';
import { loggerFor } from '../../platform/logger';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('renewing-publisher');

describe('RenewingPublisher on RabbitMQ', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = new Connection({ url: broker.url, retryLow: 50 });
    await connection.onConnect(10_000);
    await connection.queueDeclare({ queue: 'refuses', durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await connection.queueDeclare({ queue: 'takes', durable: true });
  });
  afterAll(async () => {
    await connection.close();
    await broker.delete();
  });

  it('fails the rejected send as a rejection, sends the next one on a new channel, and that one is confirmed', async () => {
    const created: Publisher[] = [];
    const publisher = new RenewingPublisher(
      (props: PublisherProps) => {
        const p = connection.createPublisher(props);
        created.push(p);
        return p;
      },
      { confirm: true, maxAttempts: 1 },
      loggerFor('test'),
      'test',
    );
    const rejected = await publisher.send({ routingKey: 'refuses' }, 'no room').then(
      () => null,
      (error: unknown) => error,
    );
    expect(isRejection(rejected)).toBe(true);
    expect(publisher.renewals).toBe(1);
    expect(created).toHaveLength(2);

    await publisher.send({ routingKey: 'takes' }, 'hello');
    const message = await connection.basicGet({ queue: 'takes', noAck: true });
    expect(message?.body).toBe('hello');
    expect(publisher.renewals).toBe(1);
    await publisher.close();
  });

  it('replaces a channel once however many of its sends were rejected', async () => {
    let made = 0;
    const publisher = new RenewingPublisher(
      (props) => {
        made++;
        return connection.createPublisher(props);
      },
      { confirm: true, maxAttempts: 1 },
      loggerFor('test'),
      'test',
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => publisher.send({ routingKey: 'refuses' }, `m${n}`)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(publisher.renewals).toBe(1);
    expect(made).toBe(2);
    await publisher.close();
  });
});
