// The RabbitMQ EventBus (rabbitmq-client 5): durable topic exchange `events`, routing key = event
// type, persistent confirmed publishes; per consumer a durable queue, a delayed-retry queue and a DLQ.
//
// Topology for a consumer queue Q (declared before consuming, re-declared on every reconnect):
//   events (topic, durable) --bindings--> Q (durable; x-dead-letter-exchange events.dlx, key Q)
//   Q.retry (durable; x-dead-letter-exchange "" and key Q): a retried message is published here with a
//     per-message `expiration` = retryDelayMs and an `x-attempt` header; when it expires the broker
//     moves it back to Q (only Q, through the default exchange; other queues do not see it again).
//   events.dlx (direct, durable) --key Q--> Q.dlq (durable): dead letters, with `x-death-reason`,
//     `x-attempts`, `x-dead-lettered-at` and `x-original-queue` headers.
// Durable queues (Q, Q.retry, Q.dlq) are quorum queues by default (`queueType`), replicated over the
// nodes of a cluster, or classic queues; a queue that exists with the other type refuses the start
// (QUEUE_TYPE_MISMATCH, naming it). A deliberate retry's attempt lives in the `x-attempt` header (it
// is a new message); broker redeliveries of the same message (its consumer died or lost its
// connection before the ack) add to it: exactly, from a quorum queue's `x-delivery-count`, or one
// for a classic queue's `redelivered` flag. A delivery past maxAttempts is dead-lettered before any
// handler runs (a message that kills its consumer cannot loop), and a quorum queue's own
// `x-delivery-limit` dead-letters, as a last resort, one that never even reaches the handler.
// Exclusive (live) queues and temporary topics' queues are classic and non-durable whatever the type.
//
// Delivery guarantees: at least once. publish() resolves only when the broker has confirmed every
// event; if the connection drops or the broker nacks, it rejects with an UNAVAILABLE error and the
// CALLER retries the whole batch (the outbox relay does) — events of a failed batch may have been
// delivered already. A retry or dead letter is confirmed before the original delivery is acked, and a
// delivery not acked when the connection drops is redelivered (redelivered=true). Consumers dedupe by
// event id (idempotent consumer layer).
import { endBatchDeliverySpan, endDeliverySpan, runInDeliverySpan, startBatchDeliverySpan, startDeliverySpan, startPublishSpans } from './bus-tracing';
import os from 'node:os';
import { Connection, ConsumerStatus, type AsyncMessage, type Consumer as AmqpConsumer, type Envelope, type SyncMessage } from 'rabbitmq-client';
import { RenewingPublisher, type ConfirmingPublisher } from './renewing-publisher';
import type { AnyEventEnvelope } from '../events/envelope';
import { systemClock, type Clock } from '../../platform/clock';
import { DomainError, ValidationError } from '../../platform/errors';
import { healthy, unhealthy, type BackendHealth } from '../../platform/health';
import { loggerFor, type Logger } from '../../platform/logger';
import {
  assertExchangeName,
  assertTopicName,
  batchElements,
  decodeEvent,
  resolveConsumeOptions,
  runBatchHandler,
  runHandler,
  settle,
  type ResolvedConsumeOptions,
  type Settlement,
} from './delivery-policy';
import { DEAD_LETTER_SCAN_LIMIT, LIVE_TOPIC } from './event-bus';
import {
  classifyPublishFailure,
  DEFAULT_MAX_MESSAGE_BYTES,
  failureReason,
  findUnpublishable,
  serialiseForPublish,
  UnpublishableEventsError,
  type UnpublishableEvent,
} from './publish-failure';
import type {
  BatchHandler,
  BatchPublishOptions,
  DeliveryOutcome,
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

/** The fixed names every service, test and operator relies on (RABBITMQ_EXCHANGE may rename the
 * exchange, for deployments or test runs sharing one broker; its dead-letter exchange follows). */
export const EVENTS_EXCHANGE = 'events';
export const deadLetterExchangeOf = (exchange: string): string => `${exchange}.dlx`;
export const retryQueueOf = (queue: string): string => `${queue}.retry`;
export const deadLetterQueueOf = (queue: string): string => `${queue}.dlq`;

/** The types a durable queue may have (RABBITMQ_QUEUE_TYPE). */
export const QUEUE_TYPES = ['quorum', 'classic'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

/**
 * A quorum consumer queue's `x-delivery-limit`: deliveries without an ack after which the broker
 * itself dead-letters a message. The adapter dead-letters at maxAttempts first; this only catches a
 * message that kills its consumer before the adapter sees it. RabbitMQ 4's default. It is part of
 * the queue's declaration: changing it needs the same migration as changing the type.
 */
export const QUORUM_DELIVERY_LIMIT = 20;

/** AMQP headers this adapter writes. */
export const busHeaders = {
  occurredAt: 'x-occurred-at',
  schemaVersion: 'x-schema-version',
  position: 'x-position',
  streamId: 'x-stream-id',
  replay: 'x-replay',
  replayId: 'x-replay-id',
  originalPosition: 'x-original-position',
  attempt: 'x-attempt',
  retryReason: 'x-retry-reason',
  deathReason: 'x-death-reason',
  attempts: 'x-attempts',
  deadLetteredAt: 'x-dead-lettered-at',
  originalQueue: 'x-original-queue',
  batchSize: 'x-batch-size',
  firstPosition: 'x-first-original-position',
  lastPosition: 'x-last-original-position',
} as const;

/** See RabbitMqBusOptions.confirmTimeoutMs. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;

export interface RabbitMqBusOptions {
  readonly url: string;
  /** The live topic exchange. Default `events`. */
  readonly exchange?: string;
  /** How long connect() waits for the first connection before failing. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff step and cap (rabbitmq-client retryLow / retryHigh). Defaults 250 ms / 10 s. */
  readonly retryLowMs?: number;
  readonly retryHighMs?: number;
  /** How long a publish or a channel waits for a reconnect before failing. Default 20 s. */
  readonly acquireTimeoutMs?: number;
  /** Shown in the management UI. */
  readonly connectionName?: string;
  /** Type of the durable queues (consumer, retry and dead-letter queues). Default quorum. */
  readonly queueType?: QueueType;
  /**
   * Every node of a cluster as `host:port`: the client connects to one and moves to the next when
   * it goes away (user, password and vhost come from `url`). Default: the URL's host.
   */
  readonly hosts?: readonly string[];
  /**
   * Largest event (JSON bytes) publish() sends; a larger one is refused with UnpublishableEventsError
   * before anything of its batch is sent (the broker would close the channel on it, failing the
   * batch every time). Default 16 MiB, RabbitMQ 4's max_message_size; keep it at or below the broker's.
   */
  readonly maxMessageBytes?: number;
  /** TCP_NODELAY. Default true: with Nagle on, each small confirmed publish waits ~40 ms for a
   * delayed ACK, capping a one-at-a-time publisher at ~25 round trips per second. */
  readonly noDelay?: boolean;
  /**
   * How long a publish waits for the broker's confirm before it counts as not confirmed (and the
   * caller publishes again; consumers deduplicate by id). A confirm can be lost for good when a
   * quorum queue's leader dies mid-publish; without a bound the relay or a consumer would wait on it
   * forever. The publishing channel is replaced too (a channel that lost one confirm may lose more).
   * Default 30 s.
   */
  readonly confirmTimeoutMs?: number;
}

export interface RabbitMqBusDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly observer?: BusObserver;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'NOT_FOUND';
}

function isPreconditionFailed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'PRECONDITION_FAILED';
}

/** The refusal of a queue that exists with another type than this process declares. */
export function queueTypeMismatch(queue: string, existing: string, configured: QueueType): DomainError {
  return new DomainError(
    'QUEUE_TYPE_MISMATCH',
    `Queue "${queue}" exists as a ${existing} queue, but this process declares its durable queues as ${configured} queues ` +
      `(RABBITMQ_QUEUE_TYPE=${configured}), and RabbitMQ cannot change a queue's type. Set RABBITMQ_QUEUE_TYPE=${existing} ` +
      'to keep running on the existing queues, or move them over (README, "Moving to quorum queues": drain them, then ' +
      'delete them or start on a new QUEUE_PREFIX).',
    { queue, existing, configured },
  );
}

/**
 * What a queue declaration failed on, in terms an operator can act on. RabbitMQ refuses to redeclare
 * a queue with other arguments (PRECONDITION_FAILED, "inequivalent arg 'x-queue-type' for queue 'Q'
 * ...: received 'quorum' but current is none", an undeclared type being classic).
 */
export function queueDeclarationError(queue: string, configured: QueueType, error: unknown): DomainError {
  const message = errorMessage(error);
  const inequivalent = isPreconditionFailed(error) ? /inequivalent arg '([^']+)' for queue '([^']*)'.*received (.+?) but current is (.+)$/.exec(message) : null;
  if (!inequivalent) return new DomainError('UNAVAILABLE', `Cannot declare the queue "${queue}": ${message}`, { queue });
  const [, argument = '', , , current = ''] = inequivalent;
  if (argument === 'x-queue-type') return queueTypeMismatch(queue, /'(quorum|classic|stream)'/.exec(current)?.[1] ?? 'classic', configured);
  return new DomainError(
    'QUEUE_ARGUMENTS_MISMATCH',
    `Queue "${queue}" exists with other arguments than this process declares (${message}). RabbitMQ cannot change a ` +
      "queue's arguments: drain it, then delete it or start on a new QUEUE_PREFIX (README, \"Moving to quorum queues\").",
    { queue, argument },
  );
}

/** Broker-set headers must not be copied into a new publish (dead-lettering cycle detection, delivery counts). */
function copyableHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key === 'x-death' || key === 'x-delivery-count' || key.startsWith('x-first-death') || key.startsWith('x-last-death')) continue;
    out[key] = value;
  }
  return out;
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/**
 * How many times the broker delivered this message before without an ack: a quorum queue counts
 * them exactly (`x-delivery-count`); a classic queue only says whether it did (`redelivered`).
 */
function earlierDeliveries(message: AsyncMessage): number {
  const counted = message.headers?.['x-delivery-count'];
  if (typeof counted === 'number' && Number.isInteger(counted) && counted >= 0) return counted;
  return message.redelivered ? 1 : 0;
}

/**
 * The arguments of a durable queue of `type` (every declaration of a queue must carry the same, or
 * RabbitMQ refuses it). A quorum queue that dead-letters does so at least once (the broker keeps a
 * message until the dead-letter target has confirmed it; this needs `reject-publish` overflow), so
 * an expired retry or a dead letter is never dropped on the way, even while a node changes leader.
 */
function durableArguments(type: QueueType, own: Record<string, unknown> = {}, deliveryLimit?: number): Record<string, unknown> {
  if (type === 'classic') return { 'x-queue-type': 'classic', ...own };
  const deadLetters = 'x-dead-letter-exchange' in own ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
  return { 'x-queue-type': 'quorum', ...own, ...deadLetters, ...(deliveryLimit === undefined ? {} : { 'x-delivery-limit': deliveryLimit }) };
}

/** The queues of one consumer: its main queue, its `.retry` queue and (durable ones) its `.dlq`. */
interface ConsumerTopology {
  /** A live (exclusive) queue and a temporary topic's queues live with their connection or replay. */
  readonly durable: boolean;
  readonly temporary: boolean;
  readonly mainQueue: { exclusive: true; autoDelete: true; durable: false } | { durable: boolean; arguments: Record<string, unknown> };
  readonly mainArguments: Record<string, unknown>;
  readonly retryQueue: { queue: string; durable: boolean; exclusive: boolean; arguments: Record<string, unknown> };
  readonly retryArguments: Record<string, unknown>;
  readonly dlq: { queue: string; durable: true; arguments: Record<string, unknown> };
  readonly dlqBinding: { queue: string; exchange: string; routingKey: string };
}

/** Durable queues take the configured type; live and temporary ones stay classic and non-durable. */
function consumerTopology(resolved: ResolvedConsumeOptions, queueType: QueueType, deadLetterExchange: string): ConsumerTopology {
  const { queue, exclusive, topic } = resolved;
  const temporary = topic !== LIVE_TOPIC;
  const durable = !exclusive && !temporary;
  const retryArguments = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue };
  const mainArguments = { 'x-dead-letter-exchange': deadLetterExchange, 'x-dead-letter-routing-key': queue };
  const dlq = { queue: deadLetterQueueOf(queue), durable: true as const, arguments: durableArguments(queueType) };
  return {
    durable,
    temporary,
    mainArguments,
    retryArguments,
    mainQueue: exclusive
      ? { exclusive: true, autoDelete: true, durable: false }
      : { durable, arguments: durable ? durableArguments(queueType, mainArguments, QUORUM_DELIVERY_LIMIT) : mainArguments },
    retryQueue: { queue: retryQueueOf(queue), durable, exclusive, arguments: durable ? durableArguments(queueType, retryArguments) : retryArguments },
    dlq,
    dlqBinding: { queue: dlq.queue, exchange: deadLetterExchange, routingKey: queue },
  };
}

/** `hosts` rotated by a random offset, so that the processes of a deployment spread over the nodes. */
function spread(hosts: readonly string[]): string[] {
  const offset = Math.floor(Math.random() * hosts.length);
  return [...hosts.slice(offset), ...hosts.slice(0, offset)];
}

/**
 * Temporary topics (replays): a non-durable topic exchange named after the replay; its queues are
 * non-durable too (a broker restart takes them with it) and are deleted with the topic, as are their
 * retry queues. Their dead-letter queues are durable and kept when they hold messages.
 */
/** How readiness and logs name the broker. */
export const RABBITMQ = 'RabbitMQ';

export class RabbitMqEventBus implements EventBus, TemporaryTopics {
  private readonly publisher: ConfirmingPublisher;
  private readonly consumers = new Set<RabbitConsumerHandle>();
  /** Queues this process declared on each temporary topic, deleted with it. */
  private readonly topicQueues = new Map<string, Set<string>>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly observer: BusObserver;
  private closing: Promise<void> | undefined;
  /** The live topic exchange (`events`) and its dead-letter exchange (`events.dlx`). */
  readonly exchange: string;
  readonly deadLetterExchange: string;
  /** The type of this bus's durable queues. */
  readonly queueType: QueueType;
  /** The socket holding this turn's writes to go out together, while it does (see coalesceWrites). */
  private held: { readonly socket: { uncork?: () => void } } | null = null;
  /** When the connection was lost (clock ms), while it is; the reason, for /ready. */
  private lostAt: number | null = null;
  private lostReason = '';
  /** Why the broker blocked the connection (a resource alarm), while it does. */
  private blockedReason: string | null = null;

  private constructor(
    readonly connection: Connection,
    exchange: string,
    queueType: QueueType,
    deps: RabbitMqBusDeps,
    private readonly maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
    private readonly confirmTimeoutMs: number = DEFAULT_CONFIRM_TIMEOUT_MS,
  ) {
    this.exchange = exchange;
    this.queueType = queueType;
    this.deadLetterExchange = deadLetterExchangeOf(exchange);
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? loggerFor('event-bus', { adapter: 'rabbitmq' });
    this.observer = deps.observer ?? {};
    this.publisher = new RenewingPublisher(
      (props) => connection.createPublisher(props),
      {
        confirm: true,
        // One attempt: a publish that fails is reported to the caller, who retries the batch in order.
        maxAttempts: 1,
        exchanges: [
          { exchange: this.exchange, type: 'topic', durable: true },
          { exchange: this.deadLetterExchange, type: 'direct', durable: true },
        ],
      },
      this.logger,
      this.exchange,
      { confirmTimeoutMs: this.confirmTimeoutMs },
    );
  }

  /** Connect and declare the exchanges; fails with UNAVAILABLE (naming the URL) if the broker is unreachable. */
  static async connect(options: RabbitMqBusOptions, deps: RabbitMqBusDeps = {}): Promise<RabbitMqEventBus> {
    const queueType = options.queueType ?? 'quorum';
    if (!QUEUE_TYPES.includes(queueType)) throw new ValidationError(`Queue type "${String(queueType)}" is not one of ${QUEUE_TYPES.join(', ')}.`, { queueType });
    const hosts = options.hosts && options.hosts.length > 0 ? spread(options.hosts) : undefined;
    const connection = new Connection({
      url: options.url,
      ...(hosts ? { hosts } : {}),
      // Host (a pod's name) and pid: an operator, or a test, tells the processes' connections apart.
      connectionName: options.connectionName ?? `membership-event-bus ${os.hostname()}:${process.pid}`,
      retryLow: options.retryLowMs ?? 250,
      retryHigh: options.retryHighMs ?? 10_000,
      acquireTimeout: options.acquireTimeoutMs ?? 20_000,
      noDelay: options.noDelay ?? true,
    });
    if (options.exchange !== undefined) assertExchangeName(options.exchange);
    const bus = new RabbitMqEventBus(connection, options.exchange ?? EVENTS_EXCHANGE, queueType, deps, options.maxMessageBytes, options.confirmTimeoutMs);
    const where = hosts ? `${redactUrl(options.url)} (hosts ${options.hosts?.join(', ')})` : redactUrl(options.url);
    connection.on('error', (error: unknown) => bus.connectionLost(error));
    connection.on('connection', () => bus.connectionUp(where));
    connection.on('connection.blocked', (reason: string) => {
      bus.blockedReason = reason;
      bus.logger.warn({ reason }, 'RabbitMQ blocked this connection (resource alarm): publishing waits until it unblocks');
    });
    connection.on('connection.unblocked', () => {
      bus.blockedReason = null;
      bus.logger.info('RabbitMQ unblocked this connection');
    });
    try {
      await connection.onConnect(options.connectTimeoutMs ?? 10_000);
      // Topology before anything is published, so no early event is routed into nothing.
      await connection.exchangeDeclare({ exchange: bus.exchange, type: 'topic', durable: true });
      await connection.exchangeDeclare({ exchange: bus.deadLetterExchange, type: 'direct', durable: true });
    } catch (error) {
      connection.unsafeDestroy();
      throw new DomainError(
        'UNAVAILABLE',
        `Cannot reach RabbitMQ at ${where}: ${errorMessage(error)}. Is the broker running and RABBITMQ_URL right?`,
        { url: redactUrl(options.url) },
      );
    }
    return bus;
  }

  unpublishable(events: readonly AnyEventEnvelope[]): UnpublishableEvent[] {
    return findUnpublishable(events, this.maxMessageBytes);
  }

  async publish(events: readonly AnyEventEnvelope[], options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    const topic = options.topic ?? LIVE_TOPIC;
    if (topic !== LIVE_TOPIC) assertTopicName(topic, this.exchange);
    const exchange = topic === LIVE_TOPIC ? this.exchange : topic;
    // Every body first: an event that can never be published is refused before any of the batch is sent.
    const bodies = serialiseForPublish(events, this.maxMessageBytes);
    // All sends start synchronously in array order on one channel, so the broker routes them in
    // order while their confirms are pipelined.
    this.coalesceWrites();
    const spans = startPublishSpans(events, 'rabbitmq', exchange);
    // Each send is bounded by the confirm timeout (RenewingPublisher): one not confirmed by then fails
    // as UNAVAILABLE, and the batch is published again.
    const sends = events.map((event, index) => this.publisher.send(this.envelopeFor(event, exchange, spans?.headers(index)), Buffer.from(bodies[index] as string)));
    // The batch leaves now, in one write with whatever this turn held: the broker routes it at once,
    // not after the I/O callbacks of the next loop turn (4-5 ms at 200 mutations/s).
    this.flushWrites();
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    spans?.end(failed[0]?.reason);
    // An encoding failure closes the channel, so the sends after it fail too: only the events whose
    // own failure is permanent are named; the others are published again with the next attempt.
    const unpublishable = results.flatMap((r, index) =>
      r.status === 'rejected' && classifyPublishFailure(r.reason) === 'permanent' ? [{ eventId: events[index]?.id ?? '', reason: failureReason(r.reason) }] : [],
    );
    if (unpublishable.length > 0) throw new UnpublishableEventsError(unpublishable);
    if (failed.length > 0) {
      throw new DomainError(
        'UNAVAILABLE',
        `RabbitMQ did not confirm ${failed.length} of ${events.length} events (${errorMessage(failed[0]?.reason)}): ` +
          'publish the batch again; events already delivered will be deduplicated by id.',
        { failed: failed.length, total: events.length },
      );
    }
    if (this.observer.published) for (const event of events) this.safeObserve(() => this.observer.published?.(event));
  }

  async publishBatch(events: readonly AnyEventEnvelope[], options: BatchPublishOptions): Promise<void> {
    this.assertOpen();
    assertTopicName(options.topic, this.exchange);
    const first = events[0];
    const last = events[events.length - 1];
    if (!first || !last) return;
    this.coalesceWrites();
    const replayInfo = first.metadata.replayInfo;
    const headers: Record<string, unknown> = {
      [busHeaders.replay]: first.metadata.replay === true,
      [busHeaders.batchSize]: events.length,
      [busHeaders.firstPosition]: replayInfo?.originalPosition ?? first.position,
      [busHeaders.lastPosition]: last.metadata.replayInfo?.originalPosition ?? last.position,
    };
    if (replayInfo) headers[busHeaders.replayId] = replayInfo.replayId;
    try {
      await this.publisher.send(
        {
          exchange: options.topic,
          routingKey: options.routingKey,
          // A temporary topic's queues do not survive a broker restart anyway.
          durable: false,
          messageId: `batch:${first.id}:${events.length}`,
          type: 'batch',
          correlationId: first.correlationId,
          timestamp: Math.floor(this.clock.now().getTime() / 1000),
          contentType: 'application/json',
          appId: 'membership',
          headers,
        },
        events,
      );
    } catch (error) {
      throw new DomainError(
        'UNAVAILABLE',
        `RabbitMQ did not confirm a batch of ${events.length} events (${errorMessage(error)}): publish the batch again; events already handled are skipped by their markers.`,
        { total: events.length },
      );
    }
    if (this.observer.published) for (const event of events) this.safeObserve(() => this.observer.published?.(event));
  }

  consumeBatches(options: ConsumeOptions & { readonly topic: string }, handler: BatchHandler): Promise<Consumer> {
    return this.attach(options, async () => ({ kind: 'retry', reason: 'a batch consumer takes batches' }), handler);
  }

  consume(options: ConsumeOptions, handler: EventHandler): Promise<Consumer> {
    return this.attach(options, handler);
  }

  private async attach(options: ConsumeOptions, handler: EventHandler, batchHandler?: BatchHandler): Promise<Consumer> {
    this.assertOpen();
    const resolved = resolveConsumeOptions(options);
    const { queue, exclusive, topic } = resolved;
    const topology = consumerTopology(resolved, this.queueType, this.deadLetterExchange);
    // The consumer's own publisher (retries, dead letters) re-declares these on every reconnect, so
    // a deleted retry queue or DLQ can never turn a retry into a silent loss.
    const outbound = new RenewingPublisher(
      (props) => this.connection.createPublisher(props),
      {
        confirm: true,
        maxAttempts: 1,
        queues: exclusive ? [topology.retryQueue] : [topology.retryQueue, topology.dlq],
        exchanges: [{ exchange: this.deadLetterExchange, type: 'direct', durable: true }],
        queueBindings: exclusive ? [] : [topology.dlqBinding],
      },
      this.logger,
      `${queue} retries`,
      { confirmTimeoutMs: this.confirmTimeoutMs },
    );
    try {
      await this.declareConsumerQueues(resolved, topology);
    } catch (error) {
      await outbound.close().catch(() => undefined);
      if (error instanceof DomainError) throw error;
      throw new DomainError('UNAVAILABLE', `Cannot declare the retry/dead-letter queues of "${queue}": ${errorMessage(error)}`, { queue });
    }
    let amqpConsumer: AmqpConsumer;
    try {
      amqpConsumer = await this.startAmqpConsumer(resolved, topology, outbound, handler, batchHandler, options.onResumed);
    } catch (error) {
      await outbound.close().catch(() => undefined);
      throw new DomainError('UNAVAILABLE', `Cannot consume from "${queue}": ${errorMessage(error)}`, { queue });
    }
    const handle = new RabbitConsumerHandle(queue, topic, async () => {
      await amqpConsumer.close();
      await outbound.close().catch((error: unknown) => this.logger.warn({ err: error, queue }, 'closing retry publisher failed'));
      this.consumers.delete(handle);
      // The main exclusive queue auto-deletes with its consumer; its retry queue is ours to remove.
      const stillUsed = [...this.consumers].some((c) => c.queue === queue);
      if (exclusive && !stillUsed) {
        await this.connection.queueDelete({ queue: topology.retryQueue.queue }).catch(() => undefined);
      }
    });
    this.consumers.add(handle);
    if (topology.temporary) {
      const queues = this.topicQueues.get(topic) ?? new Set<string>();
      queues.add(queue);
      this.topicQueues.set(topic, queues);
    }
    return handle;
  }

  /**
   * The consumer's queues declared one by one, so that a queue existing with another type or other
   * arguments stops the start with an error naming it (the consumer would only retry forever).
   * RabbitMQ names the first argument that differs, not always the type: when another one is named,
   * the declaration of the other type with the same arguments tells whether the type is what
   * differs (as it does for every queue of a deployment made before quorum queues).
   */
  private async declareConsumerQueues(resolved: ResolvedConsumeOptions, topology: ConsumerTopology): Promise<void> {
    const { queue, exclusive } = resolved;
    const { durable, mainQueue, mainArguments, retryQueue, retryArguments, dlq, dlqBinding } = topology;
    const otherType: QueueType = this.queueType === 'quorum' ? 'classic' : 'quorum';
    const declare = async (declaration: { queue: string; arguments?: Record<string, unknown> }, asOtherType?: Record<string, unknown>) => {
      try {
        await this.connection.queueDeclare(declaration);
      } catch (error) {
        const refusal = queueDeclarationError(declaration.queue, this.queueType, error);
        if (refusal.code === 'QUEUE_ARGUMENTS_MISMATCH' && asOtherType) {
          const isOtherType = await this.connection.queueDeclare({ ...declaration, arguments: asOtherType }).then(
            () => true,
            () => false,
          );
          if (isOtherType) throw queueTypeMismatch(declaration.queue, otherType, this.queueType);
        }
        throw refusal;
      }
    };
    if (!exclusive) await declare({ queue, ...mainQueue }, durable ? durableArguments(otherType, mainArguments, otherType === 'quorum' ? QUORUM_DELIVERY_LIMIT : undefined) : undefined);
    await declare(retryQueue, durable ? durableArguments(otherType, retryArguments) : undefined);
    if (!exclusive) {
      await declare(dlq, durableArguments(otherType));
      await this.connection.queueBind(dlqBinding);
    }
  }

  /** rabbitmq-client's consumer on the main queue, started and set up once (closed again if it cannot be). */
  private async startAmqpConsumer(
    resolved: ResolvedConsumeOptions,
    topology: ConsumerTopology,
    outbound: ConfirmingPublisher,
    handler: EventHandler,
    batchHandler: BatchHandler | undefined,
    onResumed: (() => void) | undefined,
  ): Promise<AmqpConsumer> {
    const { queue, topic } = resolved;
    const amqpConsumer = this.connection.createConsumer(
      {
        queue,
        queueOptions: topology.mainQueue,
        qos: { prefetchCount: resolved.prefetch },
        // Never more handlers than prefetch: the port's prefetch is "in flight per consumer".
        concurrency: resolved.concurrency,
        // Only thrown when a retry/dead-letter publish failed: the broker must keep the message.
        requeue: true,
        exchanges: [topology.temporary ? temporaryExchange(topic) : { exchange: this.exchange, type: 'topic', durable: true }],
        queueBindings: resolved.bindings.map((routingKey) => ({ exchange: topology.temporary ? topic : this.exchange, queue, routingKey })),
        lazy: true,
      },
      (message) =>
        batchHandler || message.type === 'batch'
          ? this.handleBatchDelivery(resolved, outbound, handler, batchHandler, message)
          : this.handleDelivery(resolved, outbound, handler, message),
    );
    const ready = new Promise<void>((resolve, reject) => {
      amqpConsumer.once('ready', resolve);
      amqpConsumer.once('error', reject);
    });
    amqpConsumer.on('error', (error: unknown) => this.logger.warn({ err: error, queue }, 'consumer error'));
    // 'ready' again: the consumer was set up anew on a new connection (or channel).
    let setUp = 0;
    amqpConsumer.on('ready', () => {
      if (setUp++ === 0) return;
      this.logger.info({ queue, consumerTag: amqpConsumer.consumerTag }, 'consumer set up again');
      if (onResumed) this.safeObserve(onResumed);
    });
    amqpConsumer.start();
    try {
      await ready;
    } catch (error) {
      await amqpConsumer.close().catch(() => undefined);
      throw error;
    }
    return amqpConsumer;
  }

  async createTopic(topic: string): Promise<void> {
    this.assertOpen();
    assertTopicName(topic, this.exchange);
    try {
      await this.connection.exchangeDeclare(temporaryExchange(topic));
    } catch (error) {
      throw new DomainError('UNAVAILABLE', `Cannot declare the topic "${topic}": ${errorMessage(error)}`, { topic });
    }
  }

  async deleteTopic(topic: string, others: readonly string[] = []): Promise<TopicDeletion> {
    assertTopicName(topic, this.exchange);
    const queues = [...new Set([...(this.topicQueues.get(topic) ?? []), ...others])];
    await Promise.allSettled([...this.consumers].filter((c) => c.topic === topic).map((c) => c.close()));
    let deadLettersKept = 0;
    for (const queue of queues) {
      await this.connection.queueDelete({ queue }).catch((error: unknown) => this.logger.warn({ err: error, queue }, 'deleting a topic queue failed'));
      await this.connection.queueDelete({ queue: retryQueueOf(queue) }).catch(() => undefined);
      const kept = await this.deadLetterCount(queue).catch(() => 0);
      if (kept > 0) deadLettersKept += kept;
      // An empty dead-letter queue is dropped; one holding messages is kept for inspection. (No
      // if-empty delete: quorum queues refuse it, closing the connection. The topic's consumers are
      // closed, so nothing dead-letters into it any more.)
      else await this.connection.queueDelete({ queue: deadLetterQueueOf(queue) }).catch(() => undefined);
    }
    await this.connection.exchangeDelete({ exchange: topic }).catch((error: unknown) => this.logger.warn({ err: error, topic }, 'deleting a topic failed'));
    this.topicQueues.delete(topic);
    return { queues, deadLettersKept };
  }

  async deadLetterCount(queue: string): Promise<number> {
    try {
      const { messageCount } = await this.connection.queueDeclare({ queue: deadLetterQueueOf(queue), passive: true });
      return messageCount;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  }

  /**
   * basic.get without ack on a private channel, then nack(requeue) of everything taken: the broker
   * puts the messages back (a classic queue at their original positions, a quorum queue at its end).
   * Dead letters being peeked at the same time by someone else are invisible to this call.
   */
  async peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    const channel = await this.connection.acquire();
    const letters: DeadLetter[] = [];
    let returned = false;
    try {
      let lastTag: number | undefined;
      for (let i = 0; i < limit; i++) {
        const message = await channel.basicGet({ queue: deadLetterQueueOf(queue), noAck: false });
        if (!message) break;
        lastTag = message.deliveryTag;
        letters.push(this.toDeadLetter(queue, message));
      }
      if (lastTag !== undefined) {
        channel.basicNack({ deliveryTag: lastTag, multiple: true, requeue: true });
        returned = true;
      }
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    } finally {
      // Closing the channel also returns anything still unacked.
      if (channel.active) await channel.close().catch(() => undefined);
    }
    // A quorum queue takes returned messages back after the nack, through its log: wait until it
    // counts them again, so that a count right after a peek sees what the peek saw.
    if (returned && this.queueType === 'quorum') await this.untilCounted(queue, letters.length);
    return letters;
  }

  /**
   * basic.get through the dead-letter queue (up to DEAD_LETTER_SCAN_LIMIT) until the letter of that
   * event: a requeue publishes it to the queue (default exchange, confirmed, attempts from 1 and its
   * dead-letter headers dropped) before it is acked; everything else taken is nacked back.
   */
  async settleDeadLetter(queue: string, eventId: string, action: DeadLetterAction): Promise<DeadLetter | null> {
    const channel = await this.connection.acquire();
    let found: DeadLetter | null = null;
    const others: number[] = [];
    try {
      for (let i = 0; i < DEAD_LETTER_SCAN_LIMIT && !found; i++) {
        const message = await channel.basicGet({ queue: deadLetterQueueOf(queue), noAck: false });
        if (!message) break;
        const letter = this.toDeadLetter(queue, message);
        if ((letter.event as { id?: unknown }).id !== eventId && message.messageId !== eventId) {
          others.push(message.deliveryTag);
          continue;
        }
        if (action === 'requeue') {
          const headers = copyableHeaders(message.headers);
          for (const key of [busHeaders.deathReason, busHeaders.attempts, busHeaders.deadLetteredAt, busHeaders.originalQueue, busHeaders.retryReason]) delete headers[key];
          headers[busHeaders.attempt] = 1;
          const envelope: Envelope = { exchange: '', routingKey: queue, durable: true, headers };
          if (message.messageId !== undefined) envelope.messageId = message.messageId;
          if (message.type !== undefined) envelope.type = message.type;
          if (message.correlationId !== undefined) envelope.correlationId = message.correlationId;
          if (message.timestamp !== undefined) envelope.timestamp = message.timestamp;
          if (Buffer.isBuffer(message.body) && message.contentType !== undefined) envelope.contentType = message.contentType;
          // Confirmed before the letter is acked: a failed publish leaves it where it was.
          await this.publisher.send(envelope, message.body);
        }
        channel.basicAck({ deliveryTag: message.deliveryTag });
        found = letter;
      }
      for (const tag of others) channel.basicNack({ deliveryTag: tag, requeue: true });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    } finally {
      // Closing the channel also returns anything still unacked.
      if (channel.active) await channel.close().catch(() => undefined);
    }
    // As after a peek: a count right after this sees the others back in a quorum queue.
    if (others.length > 0 && this.queueType === 'quorum') await this.untilCounted(queue, others.length);
    return found;
  }

  private async untilCounted(queue: string, atLeast: number, withinMs = 2000): Promise<void> {
    const deadline = Date.now() + withinMs;
    while ((await this.deadLetterCount(queue).catch(() => atLeast)) < atLeast && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Up while the connection is established and not blocked by the broker (rabbitmq-client's `ready`). */
  async health(): Promise<BackendHealth> {
    if (this.closing) return unhealthy(RABBITMQ, 'the bus is closed');
    // `ready` also reads false while coalesceWrites holds this turn's writes (a cork of ours, not
    // the broker's): look again once they are out.
    for (let turn = 0; turn < 3 && this.held !== null && !this.connection.ready; turn++) await new Promise((resolve) => setImmediate(resolve));
    if (this.connection.ready) return healthy(RABBITMQ);
    if (this.blockedReason !== null) return unhealthy(RABBITMQ, `the broker blocked the connection (${this.blockedReason})`);
    return unhealthy(RABBITMQ, `connection lost, reconnecting${this.lostReason ? ` (${this.lostReason})` : ''}`);
  }

  /** The connection dropped or a reconnect failed: logged once per outage (rabbitmq-client reports the first two). */
  private connectionLost(error: unknown): void {
    this.lostReason = errorMessage(error);
    if (this.closing) return;
    if (this.lostAt !== null) {
      this.logger.debug({ err: error }, 'RabbitMQ still unreachable (reconnecting)');
      return;
    }
    this.lostAt = this.clock.now().getTime();
    this.logger.warn({ err: error }, 'RabbitMQ connection lost: reconnecting (logged again when it is back)');
  }

  private connectionUp(url: string): void {
    if (this.lostAt === null) {
      this.logger.info({ url }, 'RabbitMQ connected');
      return;
    }
    const downForMs = this.clock.now().getTime() - this.lostAt;
    this.lostAt = null;
    this.lostReason = '';
    this.logger.info({ url, downForMs }, 'RabbitMQ connected again');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()));
      await this.publisher.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing publisher failed'));
      await this.connection.close();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new DomainError('UNAVAILABLE', 'The event bus is closed.');
  }

  private envelopeFor(event: AnyEventEnvelope, exchange: string = this.exchange, trace?: Record<string, string>): Envelope {
    const headers: Record<string, unknown> = {
      // The producer span's W3C trace context (bus-tracing.ts), when tracing is on.
      ...trace,
      [busHeaders.occurredAt]: event.occurredAt,
      [busHeaders.schemaVersion]: event.schemaVersion,
      [busHeaders.position]: event.position,
      [busHeaders.streamId]: event.streamId,
      [busHeaders.replay]: event.metadata.replay === true,
    };
    if (event.metadata.replayInfo) {
      headers[busHeaders.replayId] = event.metadata.replayInfo.replayId;
      headers[busHeaders.originalPosition] = event.metadata.replayInfo.originalPosition;
    }
    return {
      exchange,
      routingKey: event.type,
      // deliveryMode 2 on the live topic; a temporary topic's queues do not survive a restart anyway.
      durable: exchange === this.exchange,
      messageId: event.id,
      type: event.type,
      correlationId: event.correlationId,
      // The publish time, never a time from the payload: an AMQP timestamp is an unsigned integer, and
      // one event dated before 1970 made the client throw on every publish of its batch. When the
      // event happened travels in the body and in the x-occurred-at header.
      timestamp: Math.floor(this.clock.now().getTime() / 1000),
      contentType: 'application/json',
      appId: 'membership',
      headers,
    };
  }

  /**
   * Hold this connection's socket writes until the end of the current event-loop turn, so that the
   * publishes and acks of one turn leave in one write instead of one system call each (rabbitmq-client
   * writes every message on its own; on loopback each write cost about 60 µs, a third of the outbox
   * relay's CPU). They leave at `setImmediate`, before any timer or I/O of the next turn, or with the
   * next publish, which flushes them at once (flushWrites) so as not to wait for that turn. The socket
   * is rabbitmq-client's own (a private field, pinned with the library's version; the bus tests
   * check it is there): without it, writes simply go out one by one, as they did.
   */
  private coalesceWrites(): void {
    if (this.held !== null) return;
    const socket = (this.connection as unknown as { _socket?: { cork?: () => void; uncork?: () => void; writable?: boolean } })._socket;
    if (!socket?.cork || !socket.uncork || !socket.writable) return;
    socket.cork();
    const held = { socket };
    this.held = held;
    setImmediate(() => {
      // Unless a publish flushed this hold already (a later one is that turn's own).
      if (this.held === held) this.flushWrites();
    });
  }

  /** Write what this turn's hold kept, now (a publish); later writes of the turn are held anew. */
  private flushWrites(): void {
    const held = this.held;
    this.held = null;
    held?.socket.uncork?.();
  }

  private async handleDelivery(
    options: ResolvedConsumeOptions,
    outbound: ConfirmingPublisher,
    handler: EventHandler,
    message: AsyncMessage,
  ): Promise<ConsumerStatus> {
    const { queue, maxAttempts, retryDelayMs } = options;
    const fromHeader = positiveInt(message.headers?.[busHeaders.attempt]) ?? 1;
    // A broker redelivery means an earlier delivery may have run: count it as an attempt.
    const attempt = fromHeader + earlierDeliveries(message);
    const decoded = decodeEvent(message.body);
    const id = decoded.ok ? decoded.event.id : decoded.id || message.messageId || '';
    const type = decoded.ok ? decoded.event.type : decoded.type || message.routingKey;
    const report = (outcome: DeliverySettlement['outcome'], reason?: string) => this.reportSettled(queue, attempt, id, type, outcome, reason);
    // Debug level: which delivery reached which process, to trace a lost message (off in production,
    // where the check keeps the per-delivery log objects off this path).
    const tracing = this.logger.isLevelEnabled('debug');

    const deadLetter = async (reason: string): Promise<ConsumerStatus> => {
      if (options.exclusive) {
        this.logger.warn({ queue, eventId: id, type, reason }, 'dropping dead letter of an exclusive queue');
        report('discarded', reason);
        return ConsumerStatus.ACK;
      }
      await outbound.send(
        this.republishEnvelope(message, this.deadLetterExchange, queue, {
          [busHeaders.deathReason]: reason,
          [busHeaders.attempts]: attempt,
          [busHeaders.deadLetteredAt]: this.clock.now().toISOString(),
          [busHeaders.originalQueue]: queue,
        }),
        message.body,
      );
      this.logger.warn({ queue, eventId: id, type, reason, attempts: attempt }, 'dead-lettered');
      report('dead-letter', reason);
      return ConsumerStatus.ACK;
    };

    if (tracing) this.logger.debug({ queue, eventId: id, type, attempt, redelivered: message.redelivered, deliveryTag: message.deliveryTag }, 'delivered');
    if (!decoded.ok) return deadLetter(decoded.reason);
    const span = startDeliverySpan(message.headers, decoded.event, 'rabbitmq', queue, attempt);
    if (attempt > maxAttempts) {
      const reason = exhaustedReason(attempt, maxAttempts);
      endDeliverySpan(span, { action: 'dead-letter', reason });
      return deadLetter(reason);
    }
    const outcome = await runInDeliverySpan(span, () => runHandler(handler, decoded.event, { attempt, redelivered: message.redelivered, queue }));
    // The ack (or retry publish) that follows joins the other writes of this turn.
    this.coalesceWrites();
    const settlement = settle(outcome, attempt, maxAttempts);
    endDeliverySpan(span, options.exclusive && settlement.action === 'dead-letter' ? { action: 'discarded', reason: settlement.reason } : settlement);
    if (tracing) this.logger.debug({ queue, eventId: id, action: settlement.action, deliveryTag: message.deliveryTag }, 'settled');
    switch (settlement.action) {
      case 'ack':
        report('ack');
        return ConsumerStatus.ACK;
      case 'dead-letter':
        return deadLetter(settlement.reason);
      case 'retry':
        await outbound.send(
          {
            ...this.republishEnvelope(message, '', retryQueueOf(queue), {
              [busHeaders.attempt]: settlement.nextAttempt,
              [busHeaders.retryReason]: settlement.reason,
            }),
            expiration: String(retryDelayMs),
          },
          message.body,
        );
        report('retry', settlement.reason);
        return ConsumerStatus.ACK;
      default: {
        const unreachable: never = settlement;
        return unreachable;
      }
    }
  }

  /**
   * A batch message (or any message to a batch consumer): every event is settled on its own. A
   * retried event is sent alone to the retry queue, a dead letter alone to the DLQ, all confirmed
   * before the message is acked; if one of those sends fails the whole message is requeued (its
   * events already handled are skipped on redelivery by the consumer's markers).
   */
  private async handleBatchDelivery(
    options: ResolvedConsumeOptions,
    outbound: ConfirmingPublisher,
    handler: EventHandler,
    batchHandler: BatchHandler | undefined,
    message: AsyncMessage,
  ): Promise<ConsumerStatus> {
    const { queue, maxAttempts } = options;
    if (!Array.isArray(message.body) && !batchHandler) return this.handleDelivery(options, outbound, handler, message);
    const fromHeader = positiveInt(message.headers?.[busHeaders.attempt]) ?? 1;
    const attempt = fromHeader + earlierDeliveries(message);
    const sends: Promise<void>[] = [];
    const send = (pending: Promise<void> | null) => pending && sends.push(pending);

    const valid: AnyEventEnvelope[] = [];
    for (const element of batchElements(message.body)) {
      const decoded = decodeEvent(element);
      if (decoded.ok) valid.push(decoded.event);
      else send(this.batchDeadLetter(options, outbound, attempt, isRecord(element) ? element : { raw: String(element) }, decoded.id || message.messageId || '', decoded.type || message.routingKey, decoded.reason));
    }
    const delivery = { attempt, redelivered: message.redelivered, queue };
    const span = startBatchDeliverySpan(valid, 'rabbitmq', queue, attempt);
    let outcomes: readonly DeliveryOutcome[];
    if (attempt > maxAttempts) outcomes = valid.map(() => ({ kind: 'dead-letter', reason: exhaustedReason(attempt, maxAttempts) }));
    else if (batchHandler) outcomes = await runInDeliverySpan(span, () => runBatchHandler(batchHandler, valid, delivery));
    else {
      const each: DeliveryOutcome[] = [];
      await runInDeliverySpan(span, async () => {
        for (const event of valid) each.push(await runHandler(handler, event, delivery));
      });
      outcomes = each;
    }
    const settlements = valid.map((_, index) => settle(outcomes[index] ?? { kind: 'retry', reason: 'no outcome' }, attempt, maxAttempts));
    endBatchDeliverySpan(span, settlements);
    this.coalesceWrites();
    valid.forEach((event, index) => send(this.settleBatchEvent(options, outbound, attempt, event, settlements[index] as Settlement)));
    // A failed send throws: the consumer requeues the whole message (requeue: true).
    await Promise.all(sends);
    return ConsumerStatus.ACK;
  }

  /** One event of a batch settled on its own: acked with the message, or sent alone to the retry queue or the DLQ. */
  private settleBatchEvent(options: ResolvedConsumeOptions, outbound: ConfirmingPublisher, attempt: number, event: AnyEventEnvelope, settlement: Settlement): Promise<void> | null {
    const { queue, retryDelayMs } = options;
    switch (settlement.action) {
      case 'ack':
        this.reportSettled(queue, attempt, event.id, event.type, 'ack');
        return null;
      case 'dead-letter':
        return this.batchDeadLetter(options, outbound, attempt, event, event.id, event.type, settlement.reason);
      case 'retry': {
        const own = this.envelopeFor(event, '');
        const headers = { ...own.headers, [busHeaders.attempt]: settlement.nextAttempt, [busHeaders.retryReason]: settlement.reason };
        return outbound.send({ ...own, routingKey: retryQueueOf(queue), expiration: String(retryDelayMs), headers }, event).then(() =>
          this.reportSettled(queue, attempt, event.id, event.type, 'retry', settlement.reason),
        );
      }
      default: {
        const unreachable: never = settlement;
        return unreachable;
      }
    }
  }

  /** An element of a batch dead-lettered alone (confirmed); an exclusive queue's is only dropped. */
  private batchDeadLetter(options: ResolvedConsumeOptions, outbound: ConfirmingPublisher, attempt: number, body: unknown, id: string, type: string, reason: string): Promise<void> | null {
    const { queue } = options;
    if (options.exclusive) {
      this.logger.warn({ queue, eventId: id, type, reason }, 'dropping dead letter of an exclusive queue');
      this.reportSettled(queue, attempt, id, type, 'discarded', reason);
      return null;
    }
    const headers = {
      [busHeaders.deathReason]: reason,
      [busHeaders.attempts]: attempt,
      [busHeaders.deadLetteredAt]: this.clock.now().toISOString(),
      [busHeaders.originalQueue]: queue,
    };
    return outbound.send({ exchange: this.deadLetterExchange, routingKey: queue, durable: true, messageId: id, type, contentType: 'application/json', headers }, body).then(() => {
      this.logger.warn({ queue, eventId: id, type, reason, attempts: attempt }, 'dead-lettered');
      this.reportSettled(queue, attempt, id, type, 'dead-letter', reason);
    });
  }

  private reportSettled(queue: string, attempt: number, eventId: string, type: string, outcome: DeliverySettlement['outcome'], reason?: string): void {
    this.safeObserve(() => this.observer.settled?.({ queue, eventId, type, outcome, attempt, ...(reason === undefined ? {} : { reason }) }));
  }

  /** The same message (body and properties) addressed elsewhere, with extra headers. */
  private republishEnvelope(message: AsyncMessage, exchange: string, routingKey: string, extra: Record<string, unknown>): Envelope {
    const envelope: Envelope = {
      exchange,
      routingKey,
      durable: true,
      headers: { ...copyableHeaders(message.headers), ...extra },
    };
    if (message.messageId !== undefined) envelope.messageId = message.messageId;
    if (message.type !== undefined) envelope.type = message.type;
    if (message.correlationId !== undefined) envelope.correlationId = message.correlationId;
    if (message.timestamp !== undefined) envelope.timestamp = message.timestamp;
    if (message.appId !== undefined) envelope.appId = message.appId;
    // A Buffer body (unparseable JSON) keeps its original content type; objects are re-encoded as JSON.
    if (Buffer.isBuffer(message.body) && message.contentType !== undefined) envelope.contentType = message.contentType;
    return envelope;
  }

  private toDeadLetter(queue: string, message: SyncMessage): DeadLetter {
    const headers = message.headers ?? {};
    const brokerDeath = Array.isArray(headers['x-death']) ? (headers['x-death'][0] as Record<string, unknown> | undefined) : undefined;
    const reason =
      typeof headers[busHeaders.deathReason] === 'string'
        ? (headers[busHeaders.deathReason] as string)
        : brokerDeath?.reason === 'delivery_limit'
          ? `the broker dead-lettered the message after ${QUORUM_DELIVERY_LIMIT + 1} deliveries without an ack (delivery_limit)`
          : `broker dead-lettered the message (${String(brokerDeath?.reason ?? 'unknown reason')})`;
    const deadLetteredAt =
      typeof headers[busHeaders.deadLetteredAt] === 'string'
        ? (headers[busHeaders.deadLetteredAt] as string)
        : new Date((message.timestamp ?? 0) * 1000).toISOString();
    return {
      // As received: a dead letter may be exactly the event that failed validation.
      event: (isRecord(message.body) ? message.body : { raw: String(message.body) }) as unknown as AnyEventEnvelope,
      queue,
      reason,
      attempts: positiveInt(headers[busHeaders.attempts]) ?? positiveInt(headers[busHeaders.attempt]) ?? 1,
      deadLetteredAt,
    };
  }

  private safeObserve(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.error({ err: error }, 'bus observer threw');
    }
  }
}

/** Why a delivery past its last attempt is dead-lettered unhandled: each earlier one ended without an outcome. */
function exhaustedReason(attempt: number, maxAttempts: number): string {
  return (
    `delivered ${attempt} times, more than maxAttempts (${maxAttempts}), the earlier deliveries ending without an outcome ` +
    '(the consumer stopped or lost its connection while handling it): dead-lettered without handling it again'
  );
}

/** How a temporary topic's exchange is declared (the same everywhere, or a redeclare would fail). */
function temporaryExchange(topic: string) {
  return { exchange: topic, type: 'topic', durable: false, autoDelete: false } as const;
}

class RabbitConsumerHandle implements Consumer {
  private closing: Promise<void> | undefined;
  constructor(
    readonly queue: string,
    readonly topic: string,
    private readonly doClose: () => Promise<void>,
  ) {}
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }
}
