// One client's side of a (possibly shared) subscription: the finished events of its upstream wait
// in the client's own bounded queue, so a slow client overflows only itself and is told where to
// resume: after the last event it was handed. Every ending of the upstream reaches the client
// after the events queued before it, with the client's own cursor where it needs one.
import type { ExecutionResult, GraphQLError } from 'graphql';
import { BoundedQueue, QueueOverflowError } from '../../messaging/live/bounded-queue';
import type { FederatedResult } from './federated-upstream';
import { UpstreamInterrupted } from './federated-upstream';
import { interruptedError, overflowError } from './subscription-errors';

export interface FederatedSubscription extends AsyncIterableIterator<ExecutionResult> {
  /** End the subscription now with an error (token expiry, shutdown); queued events are dropped. */
  terminate(error: GraphQLError): void;
}

export class ClientSubscription implements FederatedSubscription {
  /** Cursor of the last event handed to the client: where a resubscribe picks up. */
  private lastCursor: string | null;
  private readonly queue: BoundedQueue<FederatedResult>;

  /**
   * `cursor`: the client's resume cursor, if any. `onClose` runs once, when the client stops
   * taking events (it completed, was terminated, overflowed, or its upstream ended).
   */
  constructor(
    bufferSize: number,
    cursor: string | null,
    onClose: () => void,
  ) {
    this.lastCursor = cursor;
    this.queue = new BoundedQueue<FederatedResult>(bufferSize, onClose);
  }

  /** Queue an event; false when it did not fit (the client overflowed and has been closed). */
  push(event: FederatedResult): boolean {
    return this.queue.push(event);
  }

  /** The upstream ended: the client gets what is queued, then is done (or gets the error). */
  end(error?: unknown): void {
    this.queue.end(error);
  }

  /** The cursor a resume would start after, as of now. */
  get cursor(): string | null {
    return this.lastCursor;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    let item: IteratorResult<FederatedResult>;
    try {
      item = await this.queue.next();
    } catch (error) {
      if (error instanceof QueueOverflowError) throw overflowError(this.lastCursor);
      // A dropped subgraph connection: say where to resume, now that we know what was delivered.
      if (error instanceof UpstreamInterrupted) throw interruptedError(this.lastCursor, error.message);
      throw error;
    }
    if (item.done) return { value: undefined, done: true };
    if (item.value.cursor !== null) this.lastCursor = item.value.cursor;
    return { value: item.value.result, done: false };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.queue.return();
    return { value: undefined, done: true };
  }

  terminate(error: GraphQLError): void {
    this.queue.fail(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
