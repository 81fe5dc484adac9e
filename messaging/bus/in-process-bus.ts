// The in-process EventBus: the embedded default (no RABBITMQ_URL) and the fast test double. It keeps
// RabbitMQ's semantics: a topic exchange, named queues that keep messages while no consumer is
// attached, round-robin competing consumers with prefetch, delayed retry, dead letters with a reason.
import { endBatchDeliverySpan, endDeliverySpan, runInDeliverySpan, startBatchDeliverySpan, startDeliverySpan, startPublishSpans } from './bus-tracing';
import { healthy, unhealthy, type BackendHealth } from '../../platform/health';
import type { AnyEventEnvelope } from '../events/envelope';
import { systemClock, type Clock, type Timers } from '../../platform/clock';
import { DomainError, IllegalStateError } from '../../platform/errors';
import { loggerFor, type Logger } from '../../platform/logger';
import { DEFAULT_MAX_MESSAGE_BYTES, findUnpublishable, serialiseForPublish, type UnpublishableEvent } from './publish-failure';
import {
  assertTopicName,
  batchElements,
  decodeEvent,
  runBatchHandler,
  resolveConsumeOptions,
  runHandler,
  settle,
  type ResolvedConsumeOptions,
} from './delivery-policy';
import type {
  DeliveryOutcome,
  BatchHandler,
  BatchPublishOptions,
  BusObserver,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  DeadLetterAction,
  DeliverySettlement,
  EventBus,
  EventHandler,
  PublishOptions,
  TemporaryTopics,
  TopicDeletion,
} from './event-bus';
import { DEAD_LETTER_SCAN_LIMIT, LIVE_TOPIC } from './event-bus';
import { TopicBindings } from './topic-pattern';

export interface InProcessBusDeps {
  readonly clock?: Clock;
  /** Timers for delayed retries (tests move a ManualClock instead of waiting); the system clock's by default. */
  readonly timers?: Timers;
  readonly logger?: Logger;
  readonly observer?: BusObserver;
  /** Largest event (JSON bytes) publish() takes, as a broker's max message size (default 16 MiB). */
  readonly maxMessageBytes?: number;
}

/** A message in a queue. The envelope is kept as JSON, as a broker would, so no handler can mutate
 * another queue's copy or the copy a retry will deliver. */
interface QueuedMessage {
  readonly json: string;
  readonly id: string;
  readonly type: string;
  attempt: number;
  /** A batch message (replays): `json` is an array of envelopes, `id` names the batch. */
  readonly batch?: true;
  /** The producer span's W3C trace context, as AMQP headers carry it (bus-tracing.ts); tracing on only. */
  readonly headers?: Readonly<Record<string, string>>;
}

interface ConsumerState {
  readonly options: ResolvedConsumeOptions;
  readonly handler: EventHandler;
  /** Set for consumeBatches: a message's events are handed over together. */
  readonly batchHandler?: BatchHandler;
  readonly inFlight: Set<Promise<void>>;
  closing: boolean;
}

/** FIFO with O(1) shift: queues can hold tens of thousands of messages while nobody consumes. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

class QueueState {
  readonly bindings = new TopicBindings();
  readonly ready = new Fifo<QueuedMessage>();
  readonly consumers: ConsumerState[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly pendingRetries = new Set<unknown>();
  nextConsumer = 0;
  pumpScheduled = false;
  deleted = false;
  constructor(
    readonly name: string,
    readonly exclusive: boolean,
    /** The exchange the queue is bound to (`events` or a temporary topic). */
    readonly topic: string,
  ) {}

  /** Round-robin over consumers that have a free prefetch slot. */
  pickConsumer(): ConsumerState | undefined {
    const count = this.consumers.length;
    for (let i = 0; i < count; i++) {
      const index = (this.nextConsumer + i) % count;
      const consumer = this.consumers[index];
      if (consumer && !consumer.closing && consumer.inFlight.size < consumer.options.concurrency) {
        this.nextConsumer = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }
}

/** How readiness names this bus. */
export const IN_PROCESS_BUS = 'in-process bus';

export class InProcessEventBus implements EventBus, TemporaryTopics {
  private readonly queues = new Map<string, QueueState>();
  /** Temporary topics that exist (the live `events` topic always does). */
  private readonly topics = new Set<string>();
  /** Dead letters of deleted temporary queues, kept as a broker keeps their dead-letter queues. */
  private readonly keptDeadLetters = new Map<string, DeadLetter[]>();
  private readonly consumers = new Set<ConsumerHandle>();
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly observer: BusObserver;
  private readonly maxMessageBytes: number;
  private closed = false;

  constructor(deps: InProcessBusDeps = {}) {
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemClock;
    this.logger = deps.logger ?? loggerFor('event-bus', { adapter: 'in-process' });
    this.observer = deps.observer ?? {};
    this.maxMessageBytes = deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  unpublishable(events: readonly AnyEventEnvelope[]): UnpublishableEvent[] {
    return findUnpublishable(events, this.maxMessageBytes);
  }

  /** In the process itself: up for as long as the bus is open. */
  async health(): Promise<BackendHealth> {
    return this.closed ? unhealthy(IN_PROCESS_BUS, 'the bus is closed') : healthy(IN_PROCESS_BUS);
  }

  async publish(events: readonly AnyEventEnvelope[], options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    const topic = options.topic ?? LIVE_TOPIC;
    this.assertTopicExists(topic);
    // Every body before any is queued: an event that can never be published fails the batch alone.
    const bodies = serialiseForPublish(events, this.maxMessageBytes);
    const spans = startPublishSpans(events, 'in-process', topic);
    for (const [index, event] of events.entries()) {
      const json = bodies[index] as string;
      const headers = spans?.headers(index);
      for (const queue of this.queues.values()) {
        if (queue.topic !== topic) continue;
        // Once per queue however many of its bindings match, as a topic exchange does.
        if (!queue.bindings.matches(event.type)) continue;
        queue.ready.push({ json, id: event.id, type: event.type, attempt: 1, ...(headers ? { headers } : {}) });
        this.schedulePump(queue);
      }
      try {
        this.observer.published?.(event);
      } catch (error) {
        this.logger.error({ err: error }, 'bus observer threw');
      }
    }
    spans?.end();
  }

  async publishBatch(events: readonly AnyEventEnvelope[], options: BatchPublishOptions): Promise<void> {
    this.assertOpen();
    assertTopicName(options.topic);
    this.assertTopicExists(options.topic);
    if (events.length === 0) return;
    const json = JSON.stringify(events);
    const id = `batch:${events[0]?.id ?? ''}:${events.length}`;
    for (const queue of this.queues.values()) {
      if (queue.topic !== options.topic || !queue.bindings.matches(options.routingKey)) continue;
      queue.ready.push({ json, id, type: options.routingKey, attempt: 1, batch: true });
      this.schedulePump(queue);
    }
    if (this.observer.published) {
      for (const event of events) {
        try {
          this.observer.published(event);
        } catch (error) {
          this.logger.error({ err: error }, 'bus observer threw');
        }
      }
    }
  }

  async consumeBatches(options: ConsumeOptions & { readonly topic: string }, handler: BatchHandler): Promise<Consumer> {
    return this.attach(options, async () => ({ kind: 'retry', reason: 'a batch consumer takes batches' }), handler);
  }

  async consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer> {
    return this.attach(options, handler);
  }

  private async attach(options: ConsumeOptions, handler: EventHandler, batchHandler?: BatchHandler): Promise<Consumer> {
    this.assertOpen();
    const resolved = resolveConsumeOptions(options);
    this.assertTopicExists(resolved.topic);
    let queue = this.queues.get(resolved.queue);
    if (queue && queue.topic !== resolved.topic) {
      throw new DomainError('CONFLICT', `Queue "${resolved.queue}" is bound to topic "${queue.topic}", not "${resolved.topic}": use another name.`, {
        queue: resolved.queue,
      });
    }
    if (queue && queue.exclusive !== resolved.exclusive) {
      throw new DomainError(
        'CONFLICT',
        `Queue "${resolved.queue}" already exists as ${queue.exclusive ? 'an exclusive' : 'a durable'} queue: use another name.`,
        { queue: resolved.queue },
      );
    }
    if (!queue) {
      queue = new QueueState(resolved.queue, resolved.exclusive, resolved.topic);
      this.queues.set(resolved.queue, queue);
    }
    // Bindings are additive, as queue.bind is: a binding stays until the queue is deleted.
    for (const pattern of resolved.bindings) queue.bindings.add(pattern);
    const state: ConsumerState = { options: resolved, handler, ...(batchHandler ? { batchHandler } : {}), inFlight: new Set(), closing: false };
    queue.consumers.push(state);
    const handle: ConsumerHandle = new ConsumerHandle(resolved.queue, () => this.closeConsumer(queue, state, handle));
    this.consumers.add(handle);
    this.schedulePump(queue);
    return handle;
  }

  async deadLetterCount(queue: string): Promise<number> {
    return this.deadLettersOf(queue).length;
  }

  async peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return this.deadLettersOf(queue).slice(0, Math.max(0, limit)).map((d) => ({ ...d }));
  }

  async settleDeadLetter(queue: string, eventId: string, action: DeadLetterAction): Promise<DeadLetter | null> {
    const state = this.queues.get(queue);
    const letters = state?.deadLetters ?? this.keptDeadLetters.get(queue);
    const index = letters ? letters.slice(0, DEAD_LETTER_SCAN_LIMIT).findIndex((d) => (d.event as { id?: unknown }).id === eventId) : -1;
    if (!letters || index === -1) return null;
    if (action === 'requeue' && (!state || state.deleted)) {
      throw new IllegalStateError(`The queue "${queue}" is gone (a finished replay's): its dead letters can only be discarded.`, { queue });
    }
    const [letter] = letters.splice(index, 1);
    if (action === 'requeue' && state) {
      const event = letter!.event;
      state.ready.push({ json: JSON.stringify(event), id: event.id, type: event.type, attempt: 1 });
      this.schedulePump(state);
    }
    return { ...letter! };
  }

  async createTopic(topic: string): Promise<void> {
    this.assertOpen();
    assertTopicName(topic);
    this.topics.add(topic);
  }

  // A dead process's queues died with its in-process bus: `_others` has nothing left to delete here.
  async deleteTopic(topic: string, _others: readonly string[] = []): Promise<TopicDeletion> {
    assertTopicName(topic);
    const queues = [...this.queues.values()].filter((q) => q.topic === topic);
    const handles = [...this.consumers].filter((c) => queues.some((q) => q.name === c.queue));
    await Promise.all(handles.map((handle) => handle.close()));
    let deadLettersKept = 0;
    for (const queue of queues) {
      queue.deleted = true;
      queue.ready.clear();
      for (const timer of queue.pendingRetries) this.timers.clearTimeout(timer);
      queue.pendingRetries.clear();
      this.queues.delete(queue.name);
      if (queue.deadLetters.length > 0) {
        this.keptDeadLetters.set(queue.name, [...(this.keptDeadLetters.get(queue.name) ?? []), ...queue.deadLetters]);
        deadLettersKept += queue.deadLetters.length;
      }
    }
    this.topics.delete(topic);
    return { queues: queues.map((q) => q.name), deadLettersKept };
  }

  private deadLettersOf(queue: string): readonly DeadLetter[] {
    return this.queues.get(queue)?.deadLetters ?? this.keptDeadLetters.get(queue) ?? [];
  }

  private assertTopicExists(topic: string): void {
    if (topic !== LIVE_TOPIC && !this.topics.has(topic)) {
      throw new DomainError('NOT_FOUND', `Topic "${topic}" does not exist: create it with createTopic first.`, { topic });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    for (const queue of this.queues.values()) {
      for (const handle of queue.pendingRetries) this.timers.clearTimeout(handle);
      queue.pendingRetries.clear();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new DomainError('UNAVAILABLE', 'The event bus is closed.');
  }

  private async closeConsumer(queue: QueueState, state: ConsumerState, handle: ConsumerHandle): Promise<void> {
    state.closing = true;
    const index = queue.consumers.indexOf(state);
    if (index >= 0) queue.consumers.splice(index, 1);
    while (state.inFlight.size > 0) await Promise.allSettled([...state.inFlight]);
    this.consumers.delete(handle);
    // An exclusive queue is auto-deleted with its last consumer, like an auto-delete AMQP queue.
    if (queue.exclusive && queue.consumers.length === 0 && this.queues.get(queue.name) === queue) {
      queue.deleted = true;
      queue.ready.clear();
      for (const timer of queue.pendingRetries) this.timers.clearTimeout(timer);
      queue.pendingRetries.clear();
      this.queues.delete(queue.name);
    }
  }

  /** Dispatch in a microtask, never inside publish(): a handler that publishes must not re-enter. */
  private schedulePump(queue: QueueState): void {
    if (queue.pumpScheduled) return;
    queue.pumpScheduled = true;
    queueMicrotask(() => {
      queue.pumpScheduled = false;
      this.pump(queue);
    });
  }

  private pump(queue: QueueState): void {
    while (!queue.deleted && queue.ready.length > 0) {
      const consumer = queue.pickConsumer();
      if (!consumer) return;
      const message = queue.ready.shift();
      if (!message) return;
      const delivery = this.deliver(queue, consumer, message).finally(() => {
        consumer.inFlight.delete(delivery);
        this.schedulePump(queue);
      });
      consumer.inFlight.add(delivery);
    }
  }

  private async deliver(queue: QueueState, consumer: ConsumerState, message: QueuedMessage): Promise<void> {
    // Yield first so the handler never runs inside pump()'s loop.
    await Promise.resolve();
    if (message.batch || consumer.batchHandler) return this.deliverBatch(queue, consumer, message);
    const { maxAttempts, retryDelayMs } = consumer.options;
    const decoded = decodeEvent(JSON.parse(message.json));
    if (!decoded.ok) {
      this.deadLetter(queue, message, decoded.reason);
      return;
    }
    const delivery = { attempt: message.attempt, redelivered: false, queue: queue.name };
    const span = startDeliverySpan(message.headers, decoded.event, 'in-process', queue.name, message.attempt);
    const outcome = await runInDeliverySpan(span, () => runHandler(consumer.handler, decoded.event, delivery));
    const settlement = settle(outcome, message.attempt, maxAttempts);
    endDeliverySpan(span, queue.exclusive && settlement.action === 'dead-letter' ? { action: 'discarded', reason: settlement.reason } : settlement);
    switch (settlement.action) {
      case 'ack':
        this.report(queue, message, 'ack');
        return;
      case 'dead-letter':
        this.deadLetter(queue, message, settlement.reason);
        return;
      case 'retry': {
        const attempt = message.attempt;
        const retried: QueuedMessage = { ...message, attempt: settlement.nextAttempt };
        if (!queue.deleted) {
          const timer = this.timers.setTimeout(() => {
            queue.pendingRetries.delete(timer);
            if (queue.deleted) return;
            // Back at the tail, as a message dead-lettered from a retry queue would be.
            queue.ready.push(retried);
            this.schedulePump(queue);
          }, retryDelayMs);
          queue.pendingRetries.add(timer);
        }
        this.report(queue, { ...message, attempt }, 'retry', settlement.reason);
        return;
      }
      default: {
        const unreachable: never = settlement;
        return unreachable;
      }
    }
  }

  /**
   * A batch message (or any message to a batch consumer): each event settled on its own; a retried
   * one goes back alone (as a message of its own, with its attempt), a dead letter is stored alone.
   */
  private async deliverBatch(queue: QueueState, consumer: ConsumerState, message: QueuedMessage): Promise<void> {
    const { maxAttempts, retryDelayMs } = consumer.options;
    const single = (raw: { id: string; type: string }, json: string): QueuedMessage => ({ json, id: raw.id, type: raw.type, attempt: message.attempt });
    const valid: AnyEventEnvelope[] = [];
    for (const element of batchElements(JSON.parse(message.json))) {
      const result = decodeEvent(element);
      if (result.ok) valid.push(result.event);
      else this.deadLetter(queue, single(result, JSON.stringify(element)), result.reason);
    }
    const delivery = { attempt: message.attempt, redelivered: false, queue: queue.name };
    const span = startBatchDeliverySpan(valid, 'in-process', queue.name, message.attempt);
    let outcomes: readonly DeliveryOutcome[];
    const { batchHandler } = consumer;
    if (batchHandler) outcomes = await runInDeliverySpan(span, () => runBatchHandler(batchHandler, valid, delivery));
    else {
      const each: DeliveryOutcome[] = [];
      await runInDeliverySpan(span, async () => {
        for (const event of valid) each.push(await runHandler(consumer.handler, event, delivery));
      });
      outcomes = each;
    }
    const settlements = valid.map((_, index) => settle(outcomes[index] ?? { kind: 'retry', reason: 'no outcome' }, message.attempt, maxAttempts));
    endBatchDeliverySpan(span, settlements);
    valid.forEach((event, index) => {
      const settlement = settlements[index] as (typeof settlements)[number];
      switch (settlement.action) {
        case 'ack':
          // An acked event is only reported: no body needed.
          this.report(queue, { json: '', id: event.id, type: event.type, attempt: message.attempt }, 'ack');
          return;
        case 'dead-letter':
          this.deadLetter(queue, single(event, JSON.stringify(event)), settlement.reason);
          return;
        case 'retry': {
          const own = single(event, JSON.stringify(event));
          this.scheduleRetry(queue, { ...own, attempt: settlement.nextAttempt }, retryDelayMs);
          this.report(queue, own, 'retry', settlement.reason);
          return;
        }
        default: {
          const unreachable: never = settlement;
          return unreachable;
        }
      }
    });
  }

  private scheduleRetry(queue: QueueState, retried: QueuedMessage, retryDelayMs: number): void {
    if (queue.deleted) return;
    const timer = this.timers.setTimeout(() => {
      queue.pendingRetries.delete(timer);
      if (queue.deleted) return;
      queue.ready.push(retried);
      this.schedulePump(queue);
    }, retryDelayMs);
    queue.pendingRetries.add(timer);
  }

  private deadLetter(queue: QueueState, message: QueuedMessage, reason: string): void {
    if (queue.exclusive) {
      // Exclusive queues serve live subscriptions and keep no dead letters (see ConsumeOptions).
      this.logger.warn({ queue: queue.name, eventId: message.id, type: message.type, reason }, 'dropping dead letter of an exclusive queue');
      this.report(queue, message, 'discarded', reason);
      return;
    }
    queue.deadLetters.push({
      event: JSON.parse(message.json) as AnyEventEnvelope,
      queue: queue.name,
      reason,
      attempts: message.attempt,
      deadLetteredAt: this.clock.now().toISOString(),
    });
    this.logger.warn({ queue: queue.name, eventId: message.id, type: message.type, reason, attempts: message.attempt }, 'dead-lettered');
    this.report(queue, message, 'dead-letter', reason);
  }

  private report(queue: QueueState, message: QueuedMessage, outcome: DeliverySettlement['outcome'], reason?: string): void {
    const settlement: DeliverySettlement = {
      queue: queue.name,
      eventId: message.id,
      type: message.type,
      outcome,
      attempt: message.attempt,
      ...(reason === undefined ? {} : { reason }),
    };
    try {
      this.observer.settled?.(settlement);
    } catch (error) {
      this.logger.error({ err: error }, 'bus observer threw');
    }
  }
}


class ConsumerHandle implements Consumer {
  private closing: Promise<void> | undefined;
  constructor(
    readonly queue: string,
    private readonly doClose: () => Promise<void>,
  ) {}
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }
}
