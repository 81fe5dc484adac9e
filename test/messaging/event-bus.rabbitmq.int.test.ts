// The RabbitMQ EventBus against a real broker (RABBITMQ_URL or the local default), in a vhost of this
// file's own: the shared contract, plus the wire format other services and operators rely on. Fails,
// never skips, without a broker.
import { Connection } from 'rabbitmq-client';
import { ack, type DeliverySettlement } from '../../messaging/bus/event-bus';
import { createEventBus } from '../../messaging/bus/create-event-bus';
import { deadLetterQueueOf, EVENTS_EXCHANGE, QUEUE_TYPES, QUORUM_DELIVERY_LIMIT, redactUrl, retryQueueOf, RabbitMqEventBus } from '../../messaging/bus/rabbitmq-bus';
import { eventBusContract, Watch } from '../contracts/event-bus.contract';
import { makeEnvelope } from '../support/envelopes';
import { randomUUID } from 'node:crypto';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('event-bus');
let url: string;

/** Management connection for assertions and teardown, opened once per file. */
let admin: Connection;

beforeAll(async () => {
  url = broker.url;
  admin = new Connection({ url, retryLow: 100, retryHigh: 1000 });
  admin.on('error', () => undefined);
  try {
    await admin.onConnect(5000);
  } catch (error) {
    throw new Error(
      `RabbitMQ is not reachable at ${redactUrl(url)} (${String(error)}). These tests need a broker: ` +
        'start one (`rabbitmq-server -detached`) or set RABBITMQ_URL.',
    );
  }
});

afterAll(async () => {
  await admin?.close();
  await broker.delete();
});

async function deleteQueue(queue: string): Promise<void> {
  for (const name of [queue, retryQueueOf(queue), deadLetterQueueOf(queue)]) {
    await admin.queueDelete({ queue: name }).catch(() => undefined);
  }
}

describe.each(QUEUE_TYPES)('RabbitMqEventBus on %s queues (contract, real broker)', (queueType) => {
  eventBusContract({
    create: (deps, options) => createEventBus({ kind: 'rabbitmq', url, retryLowMs: 100, queueType, ...options }, deps),
    deleteQueue,
    // The vhost is this file's alone: nothing else publishes on its exchange.
    isolated: true,
  });
});

/** The type of `queue`, told by what it delivers: a quorum queue stamps each delivery with its count. */
async function typeOf(queue: string): Promise<string> {
  const channel = await admin.acquire();
  try {
    channel.basicPublish({ routingKey: queue, durable: true }, { probe: true });
    let message = await channel.basicGet({ queue, noAck: true });
    for (let tries = 0; !message && tries < 100; tries++) message = await channel.basicGet({ queue, noAck: true });
    if (!message) throw new Error(`the probe never came out of ${queue}`);
    return message.headers?.['x-delivery-count'] === undefined ? 'classic' : 'quorum';
  } finally {
    await channel.close();
  }
}

/** A failed delivery that never settles (its consumer died): taken, then given back to the queue. */
async function failDeliveries(queue: string, times: number): Promise<void> {
  const channel = await admin.acquire();
  try {
    for (let i = 0; i < times; i++) {
      let message = await channel.basicGet({ queue });
      for (let tries = 0; !message && tries < 100; tries++) {
        await new Promise((resolve) => setImmediate(resolve));
        message = await channel.basicGet({ queue });
      }
      if (!message) throw new Error(`no message in ${queue} on failed delivery ${i + 1}`);
      channel.basicNack({ deliveryTag: message.deliveryTag, requeue: true });
    }
  } finally {
    await channel.close();
  }
}

describe('RabbitMqEventBus queue types', () => {
  it('declares a consumer\'s queue, retry queue and dead-letter queue as quorum queues by default, as classic ones on request', async () => {
    const quorum = await RabbitMqEventBus.connect({ url });
    const classic = await RabbitMqEventBus.connect({ url, queueType: 'classic' });
    const [q, c] = [`test.bus.quorum.${randomUUID().slice(0, 8)}`, `test.bus.classic.${randomUUID().slice(0, 8)}`];
    try {
      await (await quorum.consume({ queue: q, bindings: ['member.*'] }, async () => ack)).close();
      await (await classic.consume({ queue: c, bindings: ['member.*'] }, async () => ack)).close();
      expect(quorum.queueType).toBe('quorum');
      for (const name of [q, retryQueueOf(q), deadLetterQueueOf(q)]) expect({ name, type: await typeOf(name) }).toEqual({ name, type: 'quorum' });
      for (const name of [c, retryQueueOf(c), deadLetterQueueOf(c)]) expect({ name, type: await typeOf(name) }).toEqual({ name, type: 'classic' });
    } finally {
      await deleteQueue(q);
      await deleteQueue(c);
      await quorum.close();
      await classic.close();
    }
  });

  it('keeps a live (exclusive) queue classic and non-durable on a quorum bus', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.live.${randomUUID().slice(0, 8)}`;
    const seen = new Watch<string>();
    try {
      await bus.consume({ queue, bindings: ['email.sent'], exclusive: true }, async (e) => {
        seen.push(e.id);
        return ack;
      });
      const event = makeEnvelope('email.sent');
      await bus.publish([event]);
      await seen.until((ids) => ids.includes(event.id), 'the event on the live queue');
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['classic', 'quorum'],
    ['quorum', 'classic'],
  ] as const)('refuses to consume from a queue that exists as a %s queue when declaring %s queues, naming the queue (QUEUE_TYPE_MISMATCH)', async (existing, configured) => {
    const queue = `membership.mismatch.${randomUUID().slice(0, 8)}`;
    // The queue as a deployment on the other type left it.
    const before = await RabbitMqEventBus.connect({ url, queueType: existing });
    await (await before.consume({ queue, bindings: ['member.created'] }, async () => ack)).close();
    await before.close();
    const bus = await RabbitMqEventBus.connect({ url, queueType: configured });
    try {
      const attempt = bus.consume({ queue, bindings: ['member.created'] }, async () => ack);
      await expect(attempt).rejects.toMatchObject({
        code: 'QUEUE_TYPE_MISMATCH',
        details: { queue, existing, configured },
        message: expect.stringContaining(`Queue "${queue}" exists as a ${existing} queue`),
      });
      await expect(attempt).rejects.toThrow(`RABBITMQ_QUEUE_TYPE=${existing}`);
      // The bus is still usable: the refusal closed a channel, not the connection.
      await bus.publish([makeEnvelope('member.created')]);
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });

  it('refuses a queue that exists with other arguments than this version declares (QUEUE_ARGUMENTS_MISMATCH)', async () => {
    const queue = `membership.args.${randomUUID().slice(0, 8)}`;
    await admin.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 10 } });
    const bus = await RabbitMqEventBus.connect({ url });
    try {
      await expect(bus.consume({ queue, bindings: ['member.created'] }, async () => ack)).rejects.toMatchObject({
        code: 'QUEUE_ARGUMENTS_MISMATCH',
        details: { queue },
        message: expect.stringContaining(`Queue "${queue}" exists with other arguments`),
      });
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });

  it('counts the deliveries a quorum queue made without an outcome as attempts, and dead-letters a message past maxAttempts unhandled', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    // One message per queue (a quorum queue puts a returned message at its back).
    const [once, often] = [`test.bus.crashed.${randomUUID().slice(0, 8)}`, `test.bus.crashes.${randomUUID().slice(0, 8)}`];
    const handled = new Watch<{ id: string; attempt: number }>();
    const settled = new Watch<DeliverySettlement>();
    try {
      // Declare the queues, then stop consuming: the failed deliveries are made by hand below.
      await (await bus.consume({ queue: once, bindings: ['membership.renewed'] }, async () => ack)).close();
      await (await bus.consume({ queue: often, bindings: ['membership.activated'] }, async () => ack)).close();
      const twice = makeEnvelope('membership.renewed');
      const thrice = makeEnvelope('membership.activated');
      await bus.publish([twice, thrice]);
      await failDeliveries(once, 2); // its consumer died twice while handling it
      await failDeliveries(often, 3);
      const watched = await RabbitMqEventBus.connect({ url }, { observer: { settled: (s) => settled.push(s) } });
      try {
        for (const [queue, type] of [[once, 'membership.renewed'], [often, 'membership.activated']] as const) {
          await watched.consume({ queue, bindings: [type], maxAttempts: 3 }, async (event, delivery) => {
            handled.push({ id: event.id, attempt: delivery.attempt });
            return ack;
          });
        }
        await settled.until((items) => items.some((s) => s.eventId === thrice.id) && items.some((s) => s.eventId === twice.id), 'both messages settled');
      } finally {
        await watched.close();
      }
      // The third delivery is the last attempt: handled. The fourth is past them: dead-lettered unhandled.
      expect(handled.items).toEqual([{ id: twice.id, attempt: 3 }]);
      expect(settled.items.map((s) => [s.eventId, s.outcome, s.attempt])).toEqual(
        expect.arrayContaining([
          [twice.id, 'ack', 3],
          [thrice.id, 'dead-letter', 4],
        ]),
      );
      const [letter] = await bus.peekDeadLetters(often, 10);
      expect(letter).toMatchObject({ event: { id: thrice.id }, attempts: 4 });
      expect(letter?.reason).toMatch(/delivered 4 times, more than maxAttempts \(3\)/);
    } finally {
      await deleteQueue(once);
      await deleteQueue(often);
      await bus.close();
    }
  });

  it(`lets a quorum queue dead-letter a message after ${QUORUM_DELIVERY_LIMIT + 1} deliveries without an ack, even one no handler ever saw`, async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.limit.${randomUUID().slice(0, 8)}`;
    try {
      await (await bus.consume({ queue, bindings: ['member.created'] }, async () => ack)).close();
      const event = makeEnvelope('member.created');
      await bus.publish([event]);
      await failDeliveries(queue, QUORUM_DELIVERY_LIMIT + 1);
      await expect(admin.queueDeclare({ queue, passive: true })).resolves.toMatchObject({ messageCount: 0 });
      let letters = await bus.peekDeadLetters(queue, 10);
      for (let tries = 0; letters.length === 0 && tries < 200; tries++) letters = await bus.peekDeadLetters(queue, 10);
      expect(letters).toEqual([expect.objectContaining({ event: expect.objectContaining({ id: event.id }), reason: expect.stringContaining('delivery_limit') })]);
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });

  it('connects through the cluster nodes listed in `hosts`, passing over one that does not answer', async () => {
    const live = new URL(url);
    const bus = await RabbitMqEventBus.connect({ url, hosts: ['127.0.0.1:1', `${live.hostname}:${live.port || '5672'}`], retryLowMs: 50, connectTimeoutMs: 10_000 });
    const queue = `test.bus.hosts.${randomUUID().slice(0, 8)}`;
    const seen = new Watch<string>();
    try {
      await bus.consume({ queue, bindings: ['email.sent'] }, async (e) => {
        seen.push(e.id);
        return ack;
      });
      const event = makeEnvelope('email.sent');
      await bus.publish([event]);
      await seen.until((ids) => ids.includes(event.id), 'the event, through the live host');
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });
});

describe('RabbitMqEventBus on the wire', () => {
  it('publishes a persistent JSON message on the `events` exchange with the event as AMQP properties', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.wire.${randomUUID().slice(0, 8)}`;
    try {
      // A plain queue bound by hand: what any non-bus consumer or an operator would see.
      await admin.queueDeclare({ queue, exclusive: true });
      await admin.queueBind({ queue, exchange: EVENTS_EXCHANGE, routingKey: 'membership.renewed' });
      const event = makeEnvelope('membership.renewed', undefined, {
        metadata: { replay: true, replayInfo: { replayId: 'r-1', originalPosition: 4 } },
      });
      const before = Math.floor(Date.now() / 1000);
      await bus.publish([event]);

      let message = await admin.basicGet({ queue, noAck: true });
      while (message && message.messageId !== event.id) message = await admin.basicGet({ queue, noAck: true });
      expect(message).toMatchObject({
        exchange: EVENTS_EXCHANGE,
        routingKey: 'membership.renewed',
        durable: true,
        messageId: event.id,
        type: 'membership.renewed',
        correlationId: event.correlationId,
        contentType: 'application/json',
        headers: { 'x-occurred-at': event.occurredAt, 'x-schema-version': 1, 'x-position': event.position, 'x-replay': true, 'x-replay-id': 'r-1' },
      });
      // The timestamp is when it was published (the bus's clock), not a time from the event.
      expect(message?.timestamp).toBeGreaterThanOrEqual(before);
      expect(message?.timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(message?.body).toEqual(event);
    } finally {
      await admin.queueDelete({ queue }).catch(() => undefined);
      await bus.close();
    }
  });

  it('publishes events whatever their occurredAt says (one dated year 1 or 1969 once failed every publish of its batch)', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.ancient.${randomUUID().slice(0, 8)}`;
    const seen = new Watch<string>();
    try {
      const consumer = await bus.consume({ queue, bindings: ['membership.renewed'] }, async (e) => {
        seen.push(e.id);
        return ack;
      });
      const events = ['0001-01-01T00:00:00.000Z', '1969-12-31T23:59:59.000Z', '2025-01-15T00:00:00.000Z'].map((occurredAt) =>
        makeEnvelope('membership.renewed', undefined, { occurredAt }),
      );
      await bus.publish(events);
      await seen.until((ids) => ids.length === 3, 'the three events');
      expect(seen.items).toEqual(events.map((e) => e.id));
      await consumer.close();
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });

  it('on a renamed exchange (RABBITMQ_EXCHANGE), publishes and consumes there only: two deployments on one broker stay apart', async () => {
    const exchange = `t${randomUUID().slice(0, 8)}.events`;
    const apart = await RabbitMqEventBus.connect({ url, exchange });
    const shared = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.apart.${randomUUID().slice(0, 8)}`;
    const seen = new Watch<string>();
    try {
      const consumer = await apart.consume({ queue, bindings: ['membership.renewed'] }, async (e) => {
        seen.push(e.id);
        return ack;
      });
      const foreign = makeEnvelope('membership.renewed');
      const own = makeEnvelope('membership.renewed');
      await shared.publish([foreign]); // another deployment, on `events`
      await apart.publish([own]);
      await seen.until((ids) => ids.includes(own.id), 'the event on the renamed exchange');
      // The DLQ is bound to the renamed exchange's own dead-letter exchange.
      await expect(admin.exchangeDeclare({ exchange: `${exchange}.dlx`, type: 'direct', durable: true, passive: true })).resolves.not.toThrow();
      await consumer.close();
      // The foreign event was confirmed (so routed) before ours was published: had it been routed to
      // this queue, it would have been delivered first.
      expect(seen.items).toEqual([own.id]);
    } finally {
      await deleteQueue(queue);
      await apart.close();
      await shared.close();
      await admin.exchangeDelete({ exchange }).catch(() => undefined);
      await admin.exchangeDelete({ exchange: `${exchange}.dlx` }).catch(() => undefined);
    }
  });

  it('sends the publishes of one turn in one socket write (rabbitmq-client\'s socket is where the bus expects it)', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    try {
      const socket = (bus.connection as unknown as { _socket?: { cork: unknown; uncork: unknown; _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown } })._socket;
      expect(typeof socket?.cork).toBe('function');
      expect(typeof socket?.uncork).toBe('function');
      await bus.publish([makeEnvelope('membership.renewed')]); // the channel is open
      const writes = jest.spyOn(socket as NonNullable<typeof socket>, '_writev');
      const single = jest.spyOn(socket as NonNullable<typeof socket>, '_write');
      await bus.publish(Array.from({ length: 20 }, () => makeEnvelope('membership.renewed')));
      // 20 messages (3 frames each) left in one or two writes, not twenty.
      expect(writes.mock.calls.length + single.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      await bus.close();
    }
  });

  it('declares a durable queue with a dead-letter exchange, a retry queue and a DLQ for a consumer', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.topology.${randomUUID().slice(0, 8)}`;
    try {
      const consumer = await bus.consume({ queue, bindings: ['member.*'] }, async () => ack);
      await consumer.close();
      for (const name of [queue, retryQueueOf(queue), deadLetterQueueOf(queue)]) {
        await expect(admin.queueDeclare({ queue: name, passive: true })).resolves.toMatchObject({ queue: name });
      }
      // Survives its consumer: durable, not auto-deleted.
      expect(await bus.deadLetterCount(queue)).toBe(0);
    } finally {
      await deleteQueue(queue);
      await bus.close();
    }
  });

  it('counts zero dead letters for a queue that was never declared', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    try {
      expect(await bus.deadLetterCount(`test.bus.none.${randomUUID()}`)).toBe(0);
      expect(await bus.peekDeadLetters(`test.bus.none.${randomUUID()}`, 5)).toEqual([]);
    } finally {
      await bus.close();
    }
  });

  it('fails to connect with UNAVAILABLE naming the URL (without its password)', async () => {
    await expect(
      RabbitMqEventBus.connect({ url: 'amqp://guest:secret@127.0.0.1:1', connectTimeoutMs: 500 }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('amqp://guest:***@127.0.0.1:1') });
  });

  it('deletes an exclusive queue and its retry queue when the consumer closes', async () => {
    const bus = await RabbitMqEventBus.connect({ url });
    const queue = `test.bus.excl.${randomUUID().slice(0, 8)}`;
    const seen = new Watch<string>();
    try {
      const consumer = await bus.consume({ queue, bindings: ['email.sent'], exclusive: true }, async (e) => {
        seen.push(e.id);
        return ack;
      });
      await admin.queueDeclare({ queue, passive: true }).catch((error: unknown) => {
        // Exclusive to the bus's connection: the admin connection may not even look at it.
        expect(error).toMatchObject({ code: 'RESOURCE_LOCKED' });
      });
      await consumer.close();
      for (const name of [queue, retryQueueOf(queue)]) {
        await expect(admin.queueDeclare({ queue: name, passive: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      }
    } finally {
      await bus.close();
    }
  });
});
