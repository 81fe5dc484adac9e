// The EventBus port: publish envelopes to the `events` topic exchange (routing key = type) and
// consume them from named queues. Adapters: in-process (default, tests) and RabbitMQ.
import type { AnyEventEnvelope } from '../events/envelope';
import type { BackendHealth } from '../../platform/health';
import type { UnpublishableEvent } from './publish-failure';

/**
 * What a handler decides for one delivery. A thrown error counts as `retry`. A `transient` retry
 * failed because of the moment (a backend unavailable), not because of the event: it does not count
 * against maxAttempts, so an outage longer than the retries never dead-letters good events.
 */
export type DeliveryOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly reason: string; readonly transient?: boolean }
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

/**
 * Handles the events of one batch message, in order, and decides for each on its own: one outcome
 * per event, in the order given. A thrown error counts as `retry` for every event of the batch.
 */
export type BatchHandler = (events: readonly AnyEventEnvelope[], delivery: Delivery) => Promise<readonly DeliveryOutcome[]>;

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
  /**
   * Bind the queue to this temporary topic (made with `createTopic`) instead of the `events`
   * exchange. Such a queue is temporary too: `deleteTopic` removes it. Default: `events`.
   */
  readonly topic?: string;
  /**
   * Handlers running at once per consumer (at most `prefetch`; default `prefetch`). 1 keeps the
   * queue's order through the handler while the broker still streams `prefetch` messages ahead.
   */
  readonly concurrency?: number;
  /**
   * Called each time the consumer resumes after its connection was lost and restored (RabbitMQ: on
   * another node of a cluster, or the same one back). An exclusive queue is declared anew then:
   * what was published while it was gone never reached it, so its owner must catch up elsewhere
   * (a live feed reads the store). A durable queue kept its messages. Never called in process.
   */
  readonly onResumed?: () => void;
}

export interface PublishOptions {
  /** A temporary topic made with `createTopic` (a replay's); default the `events` exchange. */
  readonly topic?: string;
}

/** Where one batch message goes: a temporary topic and the routing key its target queue binds. */
export interface BatchPublishOptions {
  readonly topic: string;
  /** A plain routing key (no `*` or `#`), e.g. `batch.crm`. */
  readonly routingKey: string;
}

/** What `deleteTopic` removed, and what it kept so that no failure is lost. */
export interface TopicDeletion {
  readonly queues: readonly string[];
  /** Dead letters kept (in each queue's dead-letter queue, readable with peekDeadLetters). */
  readonly deadLettersKept: number;
}

/**
 * Temporary topics, for replays: an exchange of its own with one temporary queue per target, so
 * replayed events never reach live queues. Both adapters implement it (see `hasTemporaryTopics`).
 */
export interface TemporaryTopics {
  /** Declare a topic exchange that lives until `deleteTopic` (idempotent). */
  createTopic(topic: string): Promise<void>;
  /**
   * Close the topic's consumers in this process (waiting for in-flight handlers), delete its queues
   * (those this process declared, and `queues` besides: a dead process's) and their retry queues,
   * then the exchange. Dead-letter queues holding messages are kept.
   */
  deleteTopic(topic: string, queues?: readonly string[]): Promise<TopicDeletion>;
  /**
   * Publish `events` as ONE message on a temporary topic (confirmed, like publish): a replay sends
   * hundreds of events per broker round trip instead of one.
   */
  publishBatch(events: readonly AnyEventEnvelope[], options: BatchPublishOptions): Promise<void>;
  /**
   * Consume a temporary topic's queue message by message, each message's events handed over
   * together. Each event is settled on its own: a retried event is republished alone to the retry
   * queue (with its attempt), a dead letter alone to the dead-letter queue; the message is acked
   * once every event is settled. A retried event comes back as a batch of one.
   */
  consumeBatches(options: ConsumeOptions & { readonly topic: string }, handler: BatchHandler): Promise<Consumer>;
}

export interface Consumer {
  readonly queue: string;
  /** Stop taking deliveries; waits for in-flight handlers. */
  close(): Promise<void>;
}

/** What an operator does with a dead letter. */
export type DeadLetterAction = 'requeue' | 'discard';

/** How far settleDeadLetter looks into a dead-letter queue for the letter it is asked for. */
export const DEAD_LETTER_SCAN_LIMIT = 1000;

export interface DeadLetter {
  readonly event: AnyEventEnvelope;
  readonly queue: string;
  readonly reason: string;
  readonly attempts: number;
  readonly deadLetteredAt: string;
}

export interface EventBus {
  /**
   * Publish and wait for the broker's confirmation; in order of the array. Rejects with
   * UnpublishableEventsError (`./publish-failure`) naming events it can never publish (sending none
   * of the batch when it finds them before sending); any other rejection may pass on a retry.
   */
  publish(events: readonly AnyEventEnvelope[], options?: PublishOptions): Promise<void>;
  /**
   * The events of a batch publish() would refuse for good (too large, not serialisable), found at
   * once, before anything is sent: the outbox relay leaves them out and keeps the others in order.
   */
  unpublishable?(events: readonly AnyEventEnvelope[]): UnpublishableEvent[];
  consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer>;
  /** Messages waiting in a queue's dead-letter queue (count, without consuming them). */
  deadLetterCount(queue: string): Promise<number>;
  /** Read (and keep) up to `limit` dead letters of a queue, for inspection. */
  peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
  /**
   * Take one dead letter (by its event id, among the first `DEAD_LETTER_SCAN_LIMIT`) out of a queue's
   * dead-letter queue: `requeue` sends it back to the queue for a fresh round of attempts, `discard`
   * drops it. Answers the letter as it was, or null when there is no such letter. The others stay.
   */
  settleDeadLetter(queue: string, eventId: string, action: DeadLetterAction): Promise<DeadLetter | null>;
  /** Whether the bus can carry events right now (a broker connection is up; in-process: always), for /ready. */
  health(): Promise<BackendHealth>;
  close(): Promise<void>;
}

/** The `events` exchange: the live topic every adapter publishes to by default. */
export const LIVE_TOPIC = 'events';

/** Both adapters have temporary topics; a test double may not. */
export function hasTemporaryTopics(bus: EventBus): bus is EventBus & TemporaryTopics {
  const candidate = bus as Partial<TemporaryTopics>;
  return (
    typeof candidate.createTopic === 'function' &&
    typeof candidate.deleteTopic === 'function' &&
    typeof candidate.publishBatch === 'function' &&
    typeof candidate.consumeBatches === 'function'
  );
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
