// Tells the other processes of a deployment, through RabbitMQ, which event types this one has just
// appended to the shared store, so that their followers (the outbox relay in a worker, projections in
// other subgraphs) read at once instead of at their next poll. Without it, a worker's relay found a
// subgraph's appends FOLLOWER_POLL_MS (50 ms) late, 25 ms on average, on every subscription event.
//
// Best effort, by design: a lost or late announcement only means a follower finds the events at its
// next poll, as before, so nothing here is persistent or confirmed. The appends of one event-loop turn
// go out as one small message on a fanout exchange (`<RABBITMQ_EXCHANGE>.appends`); each process
// listens on an exclusive, auto-deleted queue and ignores its own announcements (its followers were
// woken in process already). It runs on the event bus's connection.
//
// A process announces only once it knows another one listens: each says hello when its queue is
// ready (again after a reconnect), and whoever hears a hello answers it. A process alone (`npm
// start` on RabbitMQ) publishes nothing: announcing there cost a twentieth of its CPU at 200
// mutations/s, one message out and back per event-loop turn, for nobody.
import { randomUUID } from 'node:crypto';
import type { Connection, Consumer, Publisher } from 'rabbitmq-client';
import type { Logger } from '../../platform/logger';
import { DomainError } from '../../platform/errors';

/** The fanout exchange carrying the append announcements of the deployment using `exchange`. */
export const appendsExchangeOf = (exchange: string): string => `${exchange}.appends`;

interface Announcement {
  /** The announcing process (its own announcements come back to it: they are ignored). */
  readonly from: string;
  readonly types: readonly string[];
  /** A greeting: 'ask' from a process whose queue just became ready, 'answer' from those hearing it. */
  readonly hello?: 'ask' | 'answer';
}

export type AnnouncedListener = (types: readonly string[]) => void;

export class RabbitMqAppendAnnouncements {
  private readonly self = randomUUID();
  private readonly listeners = new Set<AnnouncedListener>();
  /** The other processes heard from: announcing starts with the first one. */
  private readonly peers = new Set<string>();
  private readonly peerWaiters: { count: number; resolve: () => void }[] = [];
  private pending = new Set<string>();
  private scheduled = false;
  private closed = false;
  private publisher: Publisher | undefined;
  private consumer: Consumer | undefined;

  private constructor(
    private readonly exchange: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Declare the exchange and this process's queue on the bus's (connected) connection; resolves once
   * announcements arrive. `exchange` is the bus's live exchange.
   */
  static async start(options: { connection: Connection; exchange: string; logger: Logger; readyTimeoutMs?: number }): Promise<RabbitMqAppendAnnouncements> {
    const { connection } = options;
    const exchange = appendsExchangeOf(options.exchange);
    const announcements = new RabbitMqAppendAnnouncements(exchange, options.logger);
    try {
      const declared = { exchange, type: 'fanout', durable: true };
      announcements.publisher = connection.createPublisher({ confirm: false, maxAttempts: 1, exchanges: [declared] });
      const queue = `${exchange}.${randomUUID()}`;
      const consumer = connection.createConsumer(
        {
          queue,
          noAck: true,
          queueOptions: { exclusive: true, autoDelete: true, durable: false },
          exchanges: [declared],
          queueBindings: [{ exchange, queue, routingKey: '' }],
        },
        (message) => announcements.received(message.body),
      );
      announcements.consumer = consumer;
      // Every time the queue is (re)declared and consumed: say hello, so that the others know.
      consumer.on('ready', () => announcements.greet('ask'));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the announcements queue was not ready in time')), options.readyTimeoutMs ?? 10_000);
        consumer.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } catch (error) {
      await announcements.close();
      throw new DomainError('UNAVAILABLE', `Cannot set up append announcements on RabbitMQ: ${(error as Error).message}`);
    }
    return announcements;
  }

  /** Announce appended types; the announcements of one event-loop turn go out as one message. */
  announce(types: readonly string[]): void {
    if (this.closed || this.peers.size === 0) return;
    for (const type of types) this.pending.add(type);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Run `listener` with the types another process announced; returns the function that stops it. */
  onAnnounced(listener: AnnouncedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `count` other processes have been heard from. */
  peersKnown(count: number): Promise<void> {
    if (this.peers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.peerWaiters.push({ count, resolve }));
  }

  /** Stop announcing and listening (before the bus closes the connection). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.consumer?.close().catch(() => undefined);
    await this.publisher?.close().catch(() => undefined);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.pending.size === 0) return;
    const types = [...this.pending];
    this.pending = new Set();
    this.send({ from: this.self, types });
  }

  private greet(hello: 'ask' | 'answer'): void {
    if (!this.closed) this.send({ from: this.self, types: [], hello });
  }

  private send(announcement: Announcement): void {
    this.publisher?.send({ exchange: this.exchange, routingKey: '', durable: false }, announcement).catch((error: unknown) => {
      // The followers elsewhere find these events at their next poll.
      this.logger.debug({ err: error }, 'an append announcement was not sent');
    });
  }

  private received(body: unknown): void {
    const announcement = body as Partial<Announcement> | null;
    if (!announcement || typeof announcement.from !== 'string' || announcement.from === this.self || !Array.isArray(announcement.types)) return;
    if (!this.peers.has(announcement.from)) {
      this.peers.add(announcement.from);
      for (const waiter of this.peerWaiters.filter((w) => this.peers.size >= w.count)) {
        this.peerWaiters.splice(this.peerWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    if (announcement.hello === 'ask') this.greet('answer');
    const types = announcement.types.filter((t): t is string => typeof t === 'string');
    if (types.length === 0) return;
    for (const listener of this.listeners) listener(types);
  }
}
