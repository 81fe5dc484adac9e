// The outbox: commands append to the store and succeed while the bus is down; the relay publishes
// everything, in global order, once the bus is back, and records how far it got. An event the bus can
// never publish is parked, and the events after it go on.
import type { BackendHealth } from '../../platform/health';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { ack, type ConsumeOptions, type Consumer, type DeadLetter, type DeadLetterAction, type EventBus, type EventHandler } from '../../messaging/bus/event-bus';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { createOutboxRelay } from '../../messaging/outbox/outbox-relay';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { DomainError } from '../../platform/errors';
import { memoryParkingLot } from '../../messaging/outbox/parked-events';
import { loggerFor } from '../../platform/logger';
import { eventually } from '../support/wait';

/**
 * A bus that can be switched off (publish then fails as a broker outage would), and that can be
 * told to choke on some events as an encoder would: the events before one go out, then the batch
 * fails with a RangeError naming no event.
 */
class SwitchableBus implements EventBus {
  down = false;
  choke: (event: AnyEventEnvelope) => boolean = () => false;
  publishes = 0;
  constructor(private readonly inner: EventBus) {}
  async publish(events: readonly AnyEventEnvelope[]): Promise<void> {
    this.publishes++;
    if (this.down) throw new DomainError('UNAVAILABLE', 'broker unreachable');
    const bad = events.findIndex((e) => this.choke(e));
    if (bad >= 0) {
      await this.inner.publish(events.slice(0, bad));
      throw new RangeError('The value of "value" is out of range.');
    }
    await this.inner.publish(events);
  }
  consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer> {
    return this.inner.consume(options, handler);
  }
  deadLetterCount(queue: string): Promise<number> {
    return this.inner.deadLetterCount(queue);
  }
  peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return this.inner.peekDeadLetters(queue, limit);
  }
  settleDeadLetter(queue: string, eventId: string, action: DeadLetterAction): Promise<DeadLetter | null> {
    return this.inner.settleDeadLetter(queue, eventId, action);
  }
  health(): Promise<BackendHealth> {
    return this.inner.health();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const memberOf = (event: AnyEventEnvelope): string => (event.payload as { memberId: string }).memberId;

const huge = (i: number) => ({
  type: 'member.profile.updated' as const,
  payload: { memberId: `m${i}`, changes: { bio: { before: null, after: 'x'.repeat(4096) } } },
});

const created = (i: number) => ({
  type: 'member.created' as const,
  payload: { memberId: `m${i}`, email: `m${i}@example.org`, firstName: 'A', lastName: 'B', tier: 'basic' as const },
});

describe('outbox relay', () => {
  it('lets appends succeed while the bus is down and publishes all of them, in order, when it returns', async () => {
    const store = new MemoryEventStore();
    const bus = new SwitchableBus(new InProcessEventBus());
    const received: number[] = [];
    await bus.consume({ queue: 'outbox-test', bindings: ['member.created'] }, async (event) => {
      received.push(event.position);
      return ack;
    });
    const checkpoint = memoryCheckpoint();
    const relay = createOutboxRelay(store, bus, checkpoint, loggerFor('test'), { initialBackoffMs: 1, maxBackoffMs: 5, pollIntervalMs: 5 });
    await relay.start();

    bus.down = true;
    const failed = new Promise<void>((resolve) => {
      const off = relay.onProgress((s) => {
        if (s.failures > 0) {
          off();
          resolve();
        }
      });
    });
    for (let i = 0; i < 5; i++) {
      await store.append(`member-m${i}`, [created(i)], { expectedVersion: 'no_stream', context: { correlationId: `c${i}` } });
    }
    relay.wake();
    await failed;
    expect(relay.status().position).toBe(0);
    expect(relay.status().lastError).toMatch(/broker unreachable/);
    expect(received).toEqual([]);

    bus.down = false;
    await relay.caughtUp();
    expect(relay.status().position).toBe(5);
    // The position is written behind; stopping saves it.
    await relay.stop();
    expect(await checkpoint.load()).toBe(5);
    await bus.close();
    expect(received).toEqual([1, 2, 3, 4, 5]);
  });

  it('resumes from its checkpoint after a restart, republishing nothing already confirmed', async () => {
    const store = new MemoryEventStore();
    const bus = new InProcessEventBus();
    const received: number[] = [];
    await bus.consume({ queue: 'outbox-restart', bindings: ['#'] }, async (event) => {
      received.push(event.position);
      return ack;
    });
    const checkpoint = memoryCheckpoint();
    for (let i = 0; i < 3; i++) {
      await store.append(`member-m${i}`, [created(i)], { expectedVersion: 'no_stream', context: { correlationId: 'c' } });
    }
    const first = createOutboxRelay(store, bus, checkpoint, loggerFor('test'), { pollIntervalMs: 5 });
    await first.start();
    await first.caughtUp();
    await first.stop();
    for (let i = 3; i < 5; i++) {
      await store.append(`member-m${i}`, [created(i)], { expectedVersion: 'no_stream', context: { correlationId: 'c' } });
    }
    const second = createOutboxRelay(store, bus, checkpoint, loggerFor('test'), { pollIntervalMs: 5 });
    await second.start();
    await second.caughtUp();
    await second.stop();
    await bus.close();
    expect(received).toEqual([1, 2, 3, 4, 5]);
  });

  describe('poison-proof', () => {
    async function setup(bus: EventBus, options: Parameters<typeof createOutboxRelay>[4] = {}) {
      const store = new MemoryEventStore();
      const received: string[] = [];
      await bus.consume({ queue: `outbox-poison-${Math.random()}`, bindings: ['#'] }, async (event) => {
        received.push(memberOf(event));
        return ack;
      });
      const parking = memoryParkingLot();
      const relay = createOutboxRelay(store, bus, memoryCheckpoint(), loggerFor('test'), { pollIntervalMs: 5, initialBackoffMs: 1, maxBackoffMs: 5, batchSize: 3, parking, ...options });
      const append = async (events: { type: 'member.created' | 'member.profile.updated'; payload: never }[], stream: string) =>
        store.append(stream, events, { expectedVersion: 'any', context: { correlationId: 'c' } });
      return { store, received, parking, relay, append };
    }

    it('parks an event the bus refuses by name (too large) and publishes every later one, in order', async () => {
      const bus = new InProcessEventBus({ maxMessageBytes: 2048 });
      const { received, parking, relay, append } = await setup(bus);
      for (let i = 0; i < 7; i++) await append([(i === 3 ? huge(i) : created(i)) as never], `member-m${i}`);
      await relay.start();
      await relay.caughtUp();
      await eventually(() => received.length >= 6 || null, 'the six publishable events');
      expect(received).toEqual(['m0', 'm1', 'm2', 'm4', 'm5', 'm6']);
      expect(parking.parked.map((p) => [p.event.position, p.reason])).toEqual([[4, expect.stringMatching(/more than the 2048/)]]);
      // Parking is no failure of the relay: nothing to back off from, nothing held up.
      expect(relay.status()).toMatchObject({ position: 7, failures: 0, lastError: null });
      await relay.stop();
      await bus.close();
    });

    it('finds the poison of a failure that names no event by publishing one at a time, parks it, and goes on', async () => {
      const bus = new SwitchableBus(new InProcessEventBus());
      bus.choke = (e) => memberOf(e) === 'm4';
      const { received, parking, relay, append } = await setup(bus);
      for (let i = 0; i < 8; i++) await append([created(i) as never], `member-m${i}`);
      await relay.start();
      await relay.caughtUp();
      await eventually(() => received.length >= 7 || null, 'the seven publishable events');
      expect(parking.parked.map((p) => [memberOf(p.event), p.reason])).toEqual([['m4', 'RangeError: The value of "value" is out of range.']]);
      // As after any batch that failed while being sent, its events may arrive twice (consumers drop
      // repeats by id) and later batches already in flight may arrive before its rest.
      expect([...new Set(received)].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm5', 'm6', 'm7']);
      expect(relay.status()).toMatchObject({ position: 8, failures: 0 });
      await relay.stop();
      await bus.close();
    });

    it('still blocks and retries while the broker is down, parking nothing', async () => {
      const bus = new SwitchableBus(new InProcessEventBus());
      const { received, parking, relay, append } = await setup(bus);
      for (let i = 0; i < 4; i++) await append([created(i) as never], `member-m${i}`);
      bus.down = true;
      const failedTwice = new Promise<void>((resolve) => {
        const off = relay.onProgress((s) => {
          if (s.failures >= 2) {
            off();
            resolve();
          }
        });
      });
      await relay.start();
      await failedTwice;
      expect(relay.status().position).toBe(0);
      expect(parking.parked).toEqual([]);
      bus.down = false;
      await relay.caughtUp();
      await eventually(() => received.length >= 4 || null, 'the four events');
      expect(received).toEqual(['m0', 'm1', 'm2', 'm3']);
      await relay.stop();
      await bus.close();
    });

    it('stops parking and backs off when the bus refuses event after event (a broken bus, not poison)', async () => {
      const bus = new SwitchableBus(new InProcessEventBus());
      bus.choke = () => true;
      const { received, parking, relay, append } = await setup(bus, { maxConsecutiveParks: 3, batchSize: 6 });
      for (let i = 0; i < 6; i++) await append([created(i) as never], `member-m${i}`);
      const backingOff = new Promise<void>((resolve) => {
        const off = relay.onProgress((s) => {
          if (s.failures >= 2) {
            off();
            resolve();
          }
        });
      });
      await relay.start();
      await backingOff;
      expect(parking.parked.map((p) => memberOf(p.event))).toEqual(['m0', 'm1', 'm2']);
      expect(relay.status()).toMatchObject({ position: 0, lastError: expect.stringMatching(/refused 4 events in a row/) });
      // Once the bus takes events again, the relay goes on from where it stopped.
      bus.choke = () => false;
      await relay.caughtUp();
      await eventually(() => received.length >= 3 || null, 'the events after the parked ones');
      expect(received).toEqual(['m3', 'm4', 'm5']);
      await relay.stop();
      await bus.close();
    });
  });
});
