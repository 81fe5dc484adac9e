// Cuts the TCP connection to RabbitMQ mid-stream (through a proxy the test controls) and restores it:
// every published event must still be consumed. Duplicates are allowed (the idempotent consumer
// layer dedupes by event id) but each must be explained: a broker redelivery or a republished batch.
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { ack, type EventBus } from '../../messaging/bus/event-bus';
import { createEventBus } from '../../messaging/bus/create-event-bus';
import { deadLetterQueueOf, redactUrl, retryQueueOf } from '../../messaging/bus/rabbitmq-bus';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { Watch } from '../contracts/event-bus.contract';
import { makeEnvelope } from '../support/envelopes';
import { useTestVhost } from '../support/rabbit';
import { SeverableProxy } from '../support/severable-proxy';

const broker = useTestVhost('connection-loss');
let brokerUrl: URL;

interface Handled {
  readonly id: string;
  readonly redelivered: boolean;
  readonly attempt: number;
}

describe('RabbitMqEventBus across a lost connection', () => {
  const queue = `test.bus.connloss.${randomUUID().slice(0, 8)}`;
  let proxy: SeverableProxy;
  let bus: EventBus | undefined;
  let admin: Connection;

  beforeAll(async () => {
    brokerUrl = new URL(broker.url);
    admin = new Connection({ url: brokerUrl.toString(), retryLow: 100 });
    admin.on('error', () => undefined);
    await admin.onConnect(5000).catch((error: unknown) => {
      throw new Error(`RabbitMQ is not reachable at ${redactUrl(brokerUrl.toString())} (${String(error)}): start it or set RABBITMQ_URL.`);
    });
    proxy = new SeverableProxy();
  });

  afterAll(async () => {
    await bus?.close();
    await proxy.close();
    for (const name of [queue, retryQueueOf(queue), deadLetterQueueOf(queue)]) {
      await admin.queueDelete({ queue: name }).catch(() => undefined);
    }
    await admin.close();
    await broker.delete();
  });

  it('loses no event when the connection is cut twice while publishing and consuming', async () => {
    const port = await proxy.listen();
    const proxied = new URL(brokerUrl.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    bus = await createEventBus({ kind: 'rabbitmq', url: proxied.toString(), retryLowMs: 50, retryHighMs: 200, acquireTimeoutMs: 15_000 });

    const total = 400;
    const batchSize = 10;
    const events = Array.from({ length: total }, () => makeEnvelope('member.created'));
    const mine = new Set(events.map((e) => e.id));
    const handled = new Watch<Handled>();
    await bus.consume({ queue, bindings: ['member.created'], prefetch: 20 }, async (event, delivery) => {
      if (!mine.has(event.id)) return ack;
      handled.push({ id: event.id, redelivered: delivery.redelivered, attempt: delivery.attempt });
      // Keep some deliveries in flight (unacked) when the connection goes.
      await new Promise((resolve) => setImmediate(resolve));
      return ack;
    });

    // The caller's side of the contract: a rejected publish is retried as a whole batch.
    const republished = new Set<string>();
    let publishFailures = 0;
    const publishWithRetry = async (batch: readonly AnyEventEnvelope[], cutWhileInFlight: boolean) => {
      for (let tries = 1; ; tries++) {
        const sending = bus!.publish(batch);
        if (cutWhileInFlight && tries === 1) proxy.cut(1);
        try {
          await sending;
          return;
        } catch (error) {
          publishFailures++;
          for (const e of batch) republished.add(e.id);
          if (tries >= 20) throw error;
        }
      }
    };

    const cutAtBatches = new Set([12, 27]);
    for (let b = 0; b * batchSize < total; b++) {
      await publishWithRetry(events.slice(b * batchSize, (b + 1) * batchSize), cutAtBatches.has(b));
    }

    await handled.until((items) => new Set(items.map((h) => h.id)).size === total, `all ${total} events consumed`, 60_000);

    const counts = new Map<string, Handled[]>();
    for (const h of handled.items) counts.set(h.id, [...(counts.get(h.id) ?? []), h]);
    const duplicated = [...counts.entries()].filter(([, hs]) => hs.length > 1);
    const unexplained = duplicated.filter(([id, hs]) => !republished.has(id) && !hs.some((h) => h.redelivered));
    const report = {
      published: total,
      consumedUnique: counts.size,
      deliveries: handled.items.length,
      duplicates: handled.items.length - counts.size,
      duplicatesMarkedRedelivered: duplicated.filter(([, hs]) => hs.some((h) => h.redelivered)).length,
      duplicatesFromRepublishedBatches: duplicated.filter(([id]) => republished.has(id)).length,
      publishFailuresRetried: publishFailures,
      cuts: proxy.cuts,
      refusedReconnects: proxy.refused,
      acceptedConnections: proxy.accepted,
    };
    console.log(`connection-loss report ${JSON.stringify(report)}`);

    expect(proxy.cuts).toBe(2);
    expect(proxy.refused).toBeGreaterThanOrEqual(1); // the client really had to reconnect
    expect(counts.size).toBe(total);
    expect(events.every((e) => counts.has(e.id))).toBe(true);
    expect(unexplained.map(([id]) => id)).toEqual([]);
  }, 90_000);

  it('tells an exclusive (live) consumer when it resumes on a new queue after the connection came back', async () => {
    const cutter = new SeverableProxy();
    const port = await cutter.listen();
    const proxied = new URL(brokerUrl.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const live = await createEventBus({ kind: 'rabbitmq', url: proxied.toString(), retryLowMs: 50, retryHighMs: 200 });
    try {
      const resumed = new Watch<number>();
      const seen = new Watch<string>();
      await live.consume(
        { queue: `live.test.${randomUUID()}`, bindings: ['member.created'], exclusive: true, onResumed: () => resumed.push(Date.now()) },
        async (event) => {
          seen.push(event.id);
          return ack;
        },
      );
      const before = makeEnvelope('member.created');
      await bus!.publish([before]);
      await seen.until((ids) => ids.includes(before.id), 'the event before the cut');
      expect(resumed.items).toEqual([]);
      cutter.cut(1);
      await resumed.until((items) => items.length === 1, 'the consumer resuming on its new queue', 20_000);
      // Live again on the new queue.
      const after = makeEnvelope('member.created');
      await bus!.publish([after]);
      await seen.until((ids) => ids.includes(after.id), 'the event after the cut');
    } finally {
      await live.close();
      await cutter.close();
    }
  }, 60_000);

  it('fails a publish the broker never confirms within the confirm timeout, and publishes again once it answers', async () => {
    const held = new SeverableProxy();
    const port = await held.listen();
    const proxied = new URL(brokerUrl.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const timed = await createEventBus({ kind: 'rabbitmq', url: proxied.toString(), confirmTimeoutMs: 300, acquireTimeoutMs: 15_000 });
    try {
      await timed.publish([makeEnvelope('member.created')]);
      // The broker gets the publish but its confirm never reaches the client (as when a quorum
      // queue's leader dies mid-publish): the publish fails as UNAVAILABLE instead of waiting for good.
      held.hold();
      await expect(timed.publish([makeEnvelope('member.created')])).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/did not confirm 1 of 1 events \(RabbitMQ did not confirm the publish within 300 ms\)/),
      });
      held.release();
      await expect(timed.publish([makeEnvelope('member.created')])).resolves.toBeUndefined();
    } finally {
      held.release();
      await timed.close();
      await held.close();
    }
  });
});
