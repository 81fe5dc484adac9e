// An EventBus decorator that counts what goes through it (Prometheus counters), whatever the
// adapter underneath: every process wraps its bus in it.
import type { ConsumeOptions, Consumer, DeadLetter, EventBus, EventHandler } from '../bus/event-bus';
import type { AnyEventEnvelope } from '../events/envelope';
import { eventsConsumed, eventsPublished, publishFailures } from './metrics';

export class InstrumentedEventBus implements EventBus {
  constructor(private readonly inner: EventBus) {}

  async publish(events: readonly AnyEventEnvelope[]): Promise<void> {
    try {
      await this.inner.publish(events);
    } catch (error) {
      publishFailures.inc();
      throw error;
    }
    for (const event of events) eventsPublished.inc({ type: event.type });
  }

  consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer> {
    return this.inner.consume(options, async (event, delivery) => {
      let outcome;
      try {
        outcome = await handler(event, delivery);
      } catch (error) {
        eventsConsumed.inc({ queue: options.queue, type: event.type, outcome: 'retry' });
        throw error;
      }
      eventsConsumed.inc({ queue: options.queue, type: event.type, outcome: outcome.kind });
      return outcome;
    });
  }

  deadLetterCount(queue: string): Promise<number> {
    return this.inner.deadLetterCount(queue);
  }

  peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return this.inner.peekDeadLetters(queue, limit);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
