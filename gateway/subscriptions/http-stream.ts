// What the HTTP transports of subscriptions (SSE, multipart) share: the token of the
// Authorization header, refusals in GraphQL's shape, and an output that holds
// a subscription's events until the response's head is written.
import type http from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import type { SubscriberSocket } from './client-subscription';

export function sendErrors(res: http.ServerResponse, status: number, errors: readonly GraphQLFormattedError[], headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ errors });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export const unauthenticated: GraphQLFormattedError = {
  message: 'Subscribing needs a valid token: send it as Authorization: Bearer <token>.',
  extensions: { code: 'UNAUTHENTICATED' },
};

export const unavailable: GraphQLFormattedError = {
  message: 'The gateway takes no more subscription connections now: try again shortly (or another instance).',
  extensions: { code: 'UNAVAILABLE' },
};

/**
 * Where a subscription's events go: a response, once its head is written (events that come before
 * wait, in order). A closed response fails every write, so the subscription stops.
 */
export class StreamOutput {
  private res: http.ServerResponse | null = null;
  private waiting: [string, (error?: Error) => void][] = [];
  private ended = false;

  /** The response's head is written: flush what waited, write straight from now on. */
  attach(res: http.ServerResponse): void {
    this.res = res;
    const waiting = this.waiting;
    this.waiting = [];
    for (const [message, written] of waiting) this.write(message, written);
  }

  get attached(): boolean {
    return this.res !== null;
  }

  write(message: string, written: (error?: Error) => void = () => undefined): void {
    const { res } = this;
    if (this.ended || (res && (res.destroyed || res.writableEnded))) {
      written(new Error('The response is closed.'));
      return;
    }
    if (!res) {
      this.waiting.push([message, written]);
      return;
    }
    res.write(message, (error) => written(error ?? undefined));
  }

  /** No more writes (the response closed); what waited fails. */
  end(): void {
    this.ended = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const [, written] of waiting) written(new Error('The response is closed.'));
  }

  /** A SubscriberSocket writing events framed by `frame`. */
  socket(frame: (payload: string, cursor: string | null) => string): SubscriberSocket {
    return { frame, send: (message, written) => this.write(message, written) };
  }
}
