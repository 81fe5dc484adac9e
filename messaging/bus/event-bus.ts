// The EventBus port: publish envelopes to the `events` topic exchange (routing key = type) and
// consume them from named queues. Adapters: in-process (default, tests) and RabbitMQ.
import type { AnyEventEnvelope } from '../events/envelope';

/** What a handler decides for one delivery. A thrown error counts as `retry`. */
export type DeliveryOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly reason: string };

export const ack: DeliveryOutcome = { kind: 'ack' };
export const retry = (reason: string): DeliveryOutcome => ({ kind: 'retry', reason });
export const deadLetter = (reason: string): DeliveryOutcome => ({ kind: 'dead-letter', reason });

export interface Delivery {
  /** 1 on first delivery; counts retries and broker redeliveries. */
  readonly attempt: number;
  /** True when the broker says it may have been delivered before (connection loss). */
  readonly redelivered: boolean;
  readonly queue: string;
}

export type EventHandler = (event: AnyEventEnvelope, delivery: Delivery) => Promise<DeliveryOutcome>;

export interface ConsumeOptions {
  /** Durable queue name (shared by competing consumers). */
  readonly queue: string;
  /** Topic patterns bound to the queue: `member.*`, `certification.#`, `#`. */
  readonly bindings: readonly string[];
  /** Unacknowledged deliveries in flight per consumer. Default 10. */
  readonly prefetch?: number;
  /** Deliveries before a message goes to the dead-letter queue. Default 5. */
  readonly maxAttempts?: number;
  /** Delay before a retried message is delivered again, in ms. Default 1000. */
  readonly retryDelayMs?: number;
  /**
   * A private queue for this process only (live subscriptions): exclusive, auto-deleted on
   * disconnect, no dead-lettering. Default false.
   */
  readonly exclusive?: boolean;
}

export interface Consumer {
  readonly queue: string;
  /** Stop taking deliveries; waits for in-flight handlers. */
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly event: AnyEventEnvelope;
  readonly queue: string;
  readonly reason: string;
  readonly attempts: number;
  readonly deadLetteredAt: string;
}

export interface EventBus {
  /** Publish and wait for the broker's confirmation; in order of the array. */
  publish(events: readonly AnyEventEnvelope[]): Promise<void>;
  consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer>;
  /** Messages waiting in a queue's dead-letter queue (count, without consuming them). */
  deadLetterCount(queue: string): Promise<number>;
  /** Read (and keep) up to `limit` dead letters of a queue, for inspection. */
  peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

/** What happened to one delivery, as reported to a {@link BusObserver}. */
export interface DeliverySettlement {
  readonly queue: string;
  readonly eventId: string;
  /** The routing key (event type) as received; may be unknown to the catalog. */
  readonly type: string;
  /** `discarded`: a dead letter of an exclusive queue, which keeps none (logged, then dropped). */
  readonly outcome: 'ack' | 'retry' | 'dead-letter' | 'discarded';
  readonly attempt: number;
  readonly reason?: string;
}

/**
 * Optional hooks an adapter calls for metrics (the event monitor) and for tests that wait on
 * outcomes instead of sleeping. Called after the fact (a dead letter is already stored); must not throw.
 */
export interface BusObserver {
  published?(event: AnyEventEnvelope): void;
  settled?(settlement: DeliverySettlement): void;
}
