// The outbox: commands append to the store and succeed while the bus is down; the relay publishes
// everything, in global order, once the bus is back, and records how far it got.
import type { BackendHealth } from '../../platform/health';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import { ack, type ConsumeOptions, type Consumer, type DeadLetter, type EventBus, type EventHandler } from '../../messaging/bus/event-bus';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { createOutboxRelay } from '../../messaging/outbox/outbox-relay';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { DomainError } from '../../platform/errors';
import { loggerFor } from '../../platform/logger';

/** A bus that can be switched off: publish then fails as a broker outage would. */
class SwitchableBus implements EventBus {
  down = false;
  constructor(private readonly inner: EventBus) {}
  async publish(events: readonly AnyEventEnvelope[]): Promise<void> {
    if (this.down) throw new DomainError('UNAVAILABLE', 'broker unreachable');
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
  health(): Promise<BackendHealth> {
    return this.inner.health();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

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
});
