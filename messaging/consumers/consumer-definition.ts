// A consumer as its author writes it: a name, the event types it handles and a typed handler,
// the context the handler gets, and what a handler's failure means for the delivery (retry or
// dead-letter). idempotent-consumer.ts runs it at least once per event, recorded once.
import type { EventType } from '../events/catalog';
import type { AnyEventEnvelope, EventEnvelope } from '../events/envelope';
import { deadLetter, retry, type Delivery, type DeliveryOutcome } from '../bus/event-bus';
import { isDomainError, ValidationError, type ErrorCode } from '../../platform/errors';
import type { Logger } from '../../platform/logger';

/** The envelope union of exactly the listed types: `event.type` narrows the payload. */
export type HandledEvent<Ts extends readonly EventType[]> = { [T in Ts[number]]: EventEnvelope<T> }[Ts[number]];

export interface ConsumerContext {
  readonly consumer: string;
  /**
   * `${consumer}:${event.id}`, the same for live and replayed deliveries: use it as the id of the
   * record a side effect writes (with `insert`) so that running the handler twice has one effect.
   */
  readonly effectKey: string;
  /** Keys for a handler with several side effects per event: `${effectKey}:${label}`. */
  effectKeyFor(label: string): string;
  /** True on a replayed delivery: rebuild state, but send no emails and call no outside systems. */
  readonly replay: boolean;
  /** The replay run this delivery belongs to (null when live). */
  readonly replayId: string | null;
  readonly delivery: Delivery;
  readonly logger: Logger;
}

export interface DeliverySettings {
  readonly prefetch?: number;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

export type NonEmpty<T> = readonly [T, ...T[]];

export interface ConsumerDefinition<Ts extends NonEmpty<EventType> = NonEmpty<EventType>> {
  /** The consumer's identity: its queue name and the key of its markers and checkpoint. */
  readonly name: string;
  /** Event types handled; the queue's bindings are exactly these routing keys. */
  readonly handles: Ts;
  /**
   * Resolve when done. Throw a DomainError coded BAD_USER_INPUT, INVALID_EVENT or
   * UNKNOWN_EVENT_TYPE to dead-letter the event (retrying cannot help); anything else is retried.
   */
  // Method syntax on purpose: a definition for some types stays assignable to `ConsumerDefinition`
  // (any consumer), so lists of consumers type-check; `defineConsumer` still narrows `event`.
  handle(event: HandledEvent<Ts>, ctx: ConsumerContext): Promise<void>;
  /** Bus settings for this consumer's queue (defaults: the bus's). */
  readonly delivery?: DeliverySettings;
}

const CONSUMER_NAME = /^[a-z][a-z0-9_.-]{0,99}$/;

/**
 * Declare a consumer. `handles` fixes the event union the handler receives; a type outside the
 * catalog, or a `case` for a type not listed, does not compile.
 */
export function defineConsumer<const Ts extends NonEmpty<EventType>>(definition: ConsumerDefinition<Ts>): ConsumerDefinition<Ts> {
  if (!CONSUMER_NAME.test(definition.name)) {
    throw new ValidationError(
      `Consumer name "${definition.name}" must be lower case letters, digits, ".", "_" or "-", starting with a letter.`,
      { consumer: definition.name },
    );
  }
  if (definition.handles.length === 0) {
    throw new ValidationError(`Consumer "${definition.name}" must handle at least one event type.`, { consumer: definition.name });
  }
  return definition;
}

/** Queue bindings of a consumer: each handled type is its own routing key. */
export function bindingsOf(definition: Pick<ConsumerDefinition, 'handles'>): string[] {
  return [...new Set(definition.handles)];
}

/**
 * The context of one delivery of `event`. `eventLog` is called only when something is logged: a
 * child logger per event costs, and most deliveries log nothing.
 */
export function consumerContext(consumer: string, event: AnyEventEnvelope, delivery: Delivery, replayId: string | null, eventLog: () => Logger): ConsumerContext {
  return new DeliveryContext(consumer, `${consumer}:${event.id}`, replayId, delivery, eventLog);
}

// A class, not an object literal with a `get logger()`: on Node 20's V8 every such literal gets an
// accessor of its own, which kept the closure's delivery (the event, its message) alive through the
// young generation's collections until a full GC (patches/rabbitmq-client+5.0.8.patch says more).
// The getter on the prototype keeps nothing of a delivery past its handler.
class DeliveryContext implements ConsumerContext {
  readonly replay: boolean;

  constructor(
    readonly consumer: string,
    readonly effectKey: string,
    readonly replayId: string | null,
    readonly delivery: Delivery,
    private readonly eventLog: () => Logger,
  ) {
    this.replay = replayId !== null;
  }

  effectKeyFor(label: string): string {
    return `${this.effectKey}:${label}`;
  }

  get logger(): Logger {
    return this.eventLog();
  }
}

/** Error codes for which a retry cannot succeed: the event or its content is wrong, not the moment. */
const DEAD_LETTER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_USER_INPUT', 'INVALID_EVENT', 'UNKNOWN_EVENT_TYPE']);

/** What a handler's failure means for the delivery. */
export function outcomeOfFailure(error: unknown): DeliveryOutcome {
  if (isDomainError(error)) {
    const reason = `${error.code}: ${error.message}`;
    // A backend outage is not the event's fault: retried without counting, until the backend is back.
    if (error.code === 'UNAVAILABLE') return { kind: 'retry', reason, transient: true };
    return DEAD_LETTER_CODES.has(error.code) ? deadLetter(reason) : retry(reason);
  }
  return retry(error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`);
}
