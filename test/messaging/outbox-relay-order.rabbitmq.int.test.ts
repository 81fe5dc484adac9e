// The outbox relay's order across lost connections, on real RabbitMQ. The subgraphs' live feeds take
// an event's first copy in the order it reaches their queue, and a subscriber's cursor only moves
// forward: an event that arrives after a later one is dropped as already seen. So every queue must
// get the first copy of each event in store order, however often the relay's connection is cut
// while it has batches in flight (copies republished after a failure are expected, behind them).
//
// The relay publishes through a proxy the test stalls (its sends never reach the broker) and then
// cuts, refusing a few reconnects so that appends keep coming while it is away; its store takes a
// millisecond per read, as a real one does, so a read is under way when a batch fails. A watcher on
// a connection of its own reads an exclusive queue, as a live feed does. Before the fix the relay
// handed on what it read while its connection was down, and that went out first on the new one.
import { randomUUID } from 'node:crypto';
import { ack, type EventBus } from '../../messaging/bus/event-bus';
import { createEventBus } from '../../messaging/bus/create-event-bus';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import type { ReadAllOptions } from '../../messaging/store/event-store';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import type { StoreFollower } from '../../messaging/store/store-follower';
import { createOutboxRelay } from '../../messaging/outbox/outbox-relay';
import { loggerFor } from '../../platform/logger';
import { ManualClock } from '../../platform/clock';
import { useTestVhost } from '../support/rabbit';
import { SeverableProxy } from '../support/severable-proxy';
import { eventually } from '../support/wait';

const broker = useTestVhost('relay-order');

/** A store whose reads take a millisecond, as a store on disk or across the network does. */
class SlowReadingStore extends MemoryEventStore {
  /** The highest position a read handed out. */
  handedOut = 0;
  override async *readAll(options?: ReadAllOptions): AsyncIterable<AnyEventEnvelope[]> {
    for await (const batch of super.readAll(options)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      this.handedOut = Math.max(this.handedOut, batch[batch.length - 1]?.position ?? 0);
      yield batch;
    }
  }
}

describe('outbox relay on RabbitMQ across lost connections', () => {
  const proxy = new SeverableProxy();
  let relayBus: EventBus | undefined;
  let watchBus: EventBus | undefined;
  let relay: StoreFollower | undefined;

  afterAll(async () => {
    await relay?.stop();
    await relayBus?.close();
    await watchBus?.close();
    await proxy.close();
    await broker.delete();
  });

  it('delivers the first copy of every event in store order when its connection is cut three times with batches in flight', async () => {
    const port = await proxy.listen();
    const proxied = new URL(broker.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    relayBus = await createEventBus({ kind: 'rabbitmq', url: proxied.toString(), retryLowMs: 50, retryHighMs: 200, acquireTimeoutMs: 15_000 });
    watchBus = await createEventBus({ kind: 'rabbitmq', url: broker.url });

    const arrivals: number[] = [];
    const runId = randomUUID().slice(0, 8);
    await watchBus.consume({ queue: `test.relay-order.${runId}`, bindings: ['member.created'], exclusive: true, prefetch: 500 }, async (event) => {
      arrivals.push(event.position);
      return ack;
    });

    const store = new SlowReadingStore(new ManualClock());
    relay = createOutboxRelay(store, relayBus, memoryCheckpoint(), loggerFor('relay-order-test'), { initialBackoffMs: 20, maxBackoffMs: 200 });
    await relay.start();

    // Appends one at a time, each waking the relay, as commands do. Three times the connection
    // stalls (what the relay sends never reaches the broker); once the relay has taken up an event
    // appended since, the connection is cut and stays away for a few reconnects while the appends
    // go on; then the relay catches up.
    const total = 600;
    let stalledAt: number | null = null;
    for (let i = 1; i <= total; i++) {
      if (i % 150 === 0 && i < total) {
        proxy.stall();
        stalledAt = i;
      }
      const { events } = await store.append(`member-o${i}`, [{ type: 'member.created', payload: { memberId: `o${i}`, email: `o${i}@x.org`, firstName: 'O', lastName: 'R', tier: 'basic' } }], {
        expectedVersion: 0,
        context: { correlationId: `order-${i}` },
      });
      relay.wake(events);
      await new Promise((resolve) => setImmediate(resolve));
      if (stalledAt !== null && store.handedOut >= stalledAt) {
        proxy.cut(3);
        proxy.release();
        stalledAt = null;
      }
      if (i % 150 === 100) await relay.caughtUp();
    }

    await eventually(() => new Set(arrivals).size === total, `all ${total} events at the watcher's queue`, 30_000).catch((error: unknown) => {
      const have = new Set(arrivals);
      const missing = Array.from({ length: total }, (_, k) => k + 1).filter((p) => !have.has(p));
      throw new Error(`${String(error)}; missing ${missing.length} (${missing.slice(0, 20).join(',')}); relay ${JSON.stringify(relay?.status())}`);
    });
    // Each cut failed batches in flight, whose events went out again.
    expect(proxy.cuts).toBe(3);
    expect(relay.status().failures).toBeGreaterThanOrEqual(3);
    // Each position's first copy came after every smaller one's: none was overtaken.
    const overtaken: string[] = [];
    let highest = 0;
    const seen = new Set<number>();
    for (const position of arrivals) {
      if (!seen.has(position) && position < highest) overtaken.push(`${position} after ${highest}`);
      seen.add(position);
      highest = Math.max(highest, position);
    }
    expect(overtaken).toEqual([]);
  }, 90_000);
});
