// A confirming publisher that moves to a new channel when the broker rejects (nacks) a message.
// After the node leading a quorum queue dies, a publishing channel that stays connected (to a
// surviving node) can keep having its messages to that queue rejected, batch after batch, while a
// new channel's are taken: the cluster test saw the outbox relay stuck on the same rejected events
// for minutes. A rejection is already a failed send (the caller publishes again); the next send
// goes through a fresh channel.
import type { Envelope, MessageBody, Publisher, PublisherProps } from 'rabbitmq-client';
import type { Logger } from '../../platform/logger';

/** What the bus needs of a publisher. */
export interface ConfirmingPublisher {
  send(envelope: Envelope, body: MessageBody): Promise<void>;
  close(): Promise<void>;
}

/** Whether a send failed because the broker nacked the message (rabbitmq-client's code). */
export function isRejection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'NACK';
}

export class RenewingPublisher implements ConfirmingPublisher {
  private current: Publisher;
  private closed = false;
  /** Channels replaced so far (for tests and logs). */
  renewals = 0;

  constructor(
    private readonly create: (props: PublisherProps) => Publisher,
    private readonly props: PublisherProps,
    private readonly logger: Logger,
    private readonly label: string,
  ) {
    this.current = create(props);
  }

  send(envelope: Envelope, body: MessageBody): Promise<void> {
    const publisher = this.current;
    return publisher.send(envelope, body).catch((error: unknown) => {
      if (isRejection(error)) this.renew(publisher);
      throw error;
    });
  }

  /** Replace the publisher that failed (once, however many of its sends were rejected). */
  private renew(failed: Publisher): void {
    if (this.closed || this.current !== failed) return;
    this.current = this.create(this.props);
    this.renewals++;
    this.logger.info({ publisher: this.label, renewals: this.renewals }, 'the broker rejected a message: publishing on a new channel');
    // Its other sends settle first (close waits for them); failures there are the callers' to see.
    failed.close().catch((error: unknown) => this.logger.warn({ err: error, publisher: this.label }, 'closing a rejected publisher failed'));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.close();
  }
}
