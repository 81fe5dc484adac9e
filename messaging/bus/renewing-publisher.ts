// A confirming publisher that moves to a new channel when the one it has stops working: when the
// broker rejects (nacks) a message, or when a confirm does not come within the confirm timeout.
// After the node leading a quorum queue dies, a publishing channel that stays connected (to a
// surviving node) can keep having its messages to that queue rejected, batch after batch, while a
// new channel's are taken: the cluster test saw the outbox relay stuck on the same rejected events
// for minutes. A channel whose confirm never came is no better. Either way the send fails (the
// caller publishes again), and the next send goes through a fresh channel.
//
// The replaced channel is closed once the sends still waiting on it have settled: closing a channel
// fails its unconfirmed sends, so closing it at once would turn messages the broker was about to
// confirm into failures, published again and delivered twice. Every send is bounded by the confirm
// timeout, so that wait is too; a channel replaced for not confirming is closed at once (whatever
// waits on it is stuck there).
import type { Envelope, MessageBody, Publisher, PublisherProps } from 'rabbitmq-client';
import type { Logger } from '../../platform/logger';
import { DomainError } from '../../platform/errors';
import { backgroundTimers, type Timers } from '../../platform/clock';

/** What the bus needs of a publisher. */
export interface ConfirmingPublisher {
  send(envelope: Envelope, body: MessageBody): Promise<void>;
  close(): Promise<void>;
}

/** Whether a send failed because the broker nacked the message (rabbitmq-client's code). */
export function isRejection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'NACK';
}

export interface RenewingPublisherOptions {
  /** How long a send waits for the broker's confirm before it fails and the channel is replaced (none: no limit). */
  readonly confirmTimeoutMs?: number;
  /** The confirm deadline's timers (tests pass a ManualClock). */
  readonly timers?: Timers;
}

/** Why a channel was replaced. */
type RenewalCause = 'rejected' | 'unconfirmed';

/** One channel's publisher with the sends still waiting on it. */
interface Generation {
  readonly publisher: Publisher;
  inFlight: number;
  /** Set once replaced: called when its last send settles. */
  onDrained: (() => void) | null;
}

export class RenewingPublisher implements ConfirmingPublisher {
  private current: Generation;
  private closed = false;
  /** Channels replaced so far (for tests and logs). */
  renewals = 0;
  private readonly timers: Timers;

  constructor(
    private readonly create: (props: PublisherProps) => Publisher,
    private readonly props: PublisherProps,
    private readonly logger: Logger,
    private readonly label: string,
    private readonly options: RenewingPublisherOptions = {},
  ) {
    this.current = this.generation();
    this.timers = options.timers ?? backgroundTimers;
  }

  send(envelope: Envelope, body: MessageBody): Promise<void> {
    const generation = this.current;
    generation.inFlight++;
    const timeoutMs = this.options.confirmTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: unknown = null;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        if (timer !== null) this.timers.clearTimeout(timer);
        if (--generation.inFlight === 0) generation.onDrained?.();
        outcome();
      };
      if (timeoutMs !== undefined) {
        timer = this.timers.setTimeout(
          () =>
            settle(() => {
              this.renew(generation, 'unconfirmed');
              reject(new DomainError('UNAVAILABLE', `RabbitMQ did not confirm the publish within ${timeoutMs} ms`, { confirmTimeoutMs: timeoutMs }));
            }),
          timeoutMs,
        );
      }
      generation.publisher.send(envelope, body).then(
        () => settle(resolve),
        (error: unknown) =>
          settle(() => {
            if (isRejection(error)) this.renew(generation, 'rejected');
            reject(error);
          }),
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.publisher.close();
  }

  private generation(): Generation {
    return { publisher: this.create(this.props), inFlight: 0, onDrained: null };
  }

  /** Replace the channel that failed (once, however many of its sends failed). */
  private renew(failed: Generation, cause: RenewalCause): void {
    if (this.closed || this.current !== failed) return;
    this.current = this.generation();
    this.renewals++;
    this.logger.info(
      { publisher: this.label, renewals: this.renewals, cause, stillWaiting: failed.inFlight },
      cause === 'rejected' ? 'the broker rejected a message: publishing on a new channel' : 'a confirm did not come in time: publishing on a new channel',
    );
    const close = () => {
      failed.onDrained = null;
      failed.publisher.close().catch((error: unknown) => this.logger.warn({ err: error, publisher: this.label }, 'closing a replaced publisher failed'));
    };
    if (cause === 'unconfirmed' || failed.inFlight === 0) close();
    else failed.onDrained = close;
  }
}
