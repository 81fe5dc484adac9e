// One client's side of a (possibly shared) subscription, written straight to the client's
// connection: each event goes out framed for its transport (a graphql-ws `next` message, an SSE
// `next` event, a multipart part) the moment its federated execution finishes, serialized once per
// event however many clients share it. The transport still owns the protocol (subscribe,
// complete, errors): the iterator it is given yields nothing and settles once the subscription
// ends, so the error or completion it then sends comes after every event written before.
//
// Why not through graphql-ws's own `next`: per client and per event that took an async iteration,
// a copy of the result and a JSON.stringify of the whole message, which with thousands of clients
// per event cost more CPU than writing to the sockets (the fan-out benchmark).
//
// Bounded: the events written to a client but not yet taken by its socket (a slow
// reader's socket stops taking them) count against the buffer; one more than it holds ends the
// subscription with the cursor to resume from, the cursor of the last event written.
import type { ExecutionResult, GraphQLError } from 'graphql';
import { QueueOverflowError } from '../../messaging/live/bounded-queue';
import { UpstreamInterrupted, type FederatedResult } from './federated-upstream';
import { interruptedError, overflowError } from './subscription-errors';
import { graphqlWsNextFrame } from '../../platform/subscription-protocol';

export interface FederatedSubscription extends AsyncIterableIterator<ExecutionResult> {
  /** End the subscription now with an error (token expiry; UpstreamInterrupted at a shutdown, told with the cursor to resume from). */
  terminate(error: GraphQLError | UpstreamInterrupted): void;
}

/** The client's connection (a WebSocket, an SSE stream, a multipart response), as far as writing events to it goes. */
export interface SubscriberSocket {
  /** Send one text message; `written` runs once the socket took it (with an error when it is closed). */
  send(message: string, written: (error?: Error) => void): void;
  /**
   * The message of one event, from its result's JSON (serialized once for all clients) and its
   * cursor: the transport's framing. A graphql-ws `next` message when absent.
   */
  readonly frame?: (payload: string, cursor: string | null) => string;
}

/** The payload of an event, serialized once for every client that receives it. */
const serialized = new WeakMap<FederatedResult, string>();
function payloadOf(event: FederatedResult): string {
  let json = serialized.get(event);
  if (json === undefined) serialized.set(event, (json = JSON.stringify(event.result)));
  return json;
}

type Outcome = { readonly error?: unknown };
const DONE: Outcome = {};

export class ClientSubscription implements FederatedSubscription {
  /** Cursor of the last event written to the client: where a resubscribe picks up. */
  private lastCursor: string | null;
  /** Events written that the socket has not taken yet. */
  private pending = 0;
  /** Still taking events. */
  private open = true;
  /** How the iterator ends, once known and not yet reported. */
  private outcome: Outcome | null = null;
  private waiter: { resolve: (result: IteratorResult<ExecutionResult>) => void; reject: (error: unknown) => void } | null = null;
  private readonly nextFrame: (payloadJson: string) => string;

  /**
   * `id`: the client's subscription id; `cursor`: its resume cursor, if any. `onClose` runs once,
   * when the client stops taking events (it completed, was terminated, overflowed, or the upstream ended).
   */
  constructor(
    id: string,
    private readonly socket: SubscriberSocket,
    private readonly bufferSize: number,
    cursor: string | null,
    private readonly onClose: () => void,
  ) {
    this.lastCursor = cursor;
    this.nextFrame = graphqlWsNextFrame(id);
  }

  /** Write an event; false when the client is not taking events (any more). */
  push(event: FederatedResult): boolean {
    if (!this.open) return false;
    if (this.pending >= this.bufferSize) {
      this.finish(new QueueOverflowError(this.bufferSize));
      return false;
    }
    this.pending += 1;
    const { frame } = this.socket;
    this.socket.send(frame ? frame(payloadOf(event), event.cursor) : this.nextFrame(payloadOf(event)), this.written);
    if (event.cursor !== null) this.lastCursor = event.cursor;
    return true;
  }

  private readonly written = (error?: Error): void => {
    this.pending -= 1;
    // A closed socket: graphql-ws ends the subscription (return()); stop writing meanwhile.
    if (error && this.open) this.finish();
  };

  /** The upstream ended: every event is written already; the client gets the ending (or the error). */
  end(error?: unknown): void {
    this.finish(error);
  }

  terminate(error: GraphQLError | UpstreamInterrupted): void {
    this.finish(error);
  }

  /** The cursor a resume would start after, as of now. */
  get cursor(): string | null {
    return this.lastCursor;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const outcome = this.outcome;
    if (outcome === null) return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
    this.outcome = DONE;
    return outcome.error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.clientError(outcome.error));
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    // Completed by the client: an ending not yet reported has nobody left to tell.
    this.finish();
    this.outcome = DONE;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(error?: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.outcome = { error };
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      this.outcome = DONE;
      if (error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(this.clientError(error));
    }
    this.onClose();
  }

  /** What the client is told: where to resume, now that we know what was written. */
  private clientError(error: unknown): unknown {
    if (error instanceof QueueOverflowError) return overflowError(this.lastCursor);
    if (error instanceof UpstreamInterrupted) return interruptedError(this.lastCursor, error.message);
    return error;
  }
}
