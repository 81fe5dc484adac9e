// Test clients: graphql-ws's own client, collecting what a subscription receives so tests wait on
// messages (never on time); and a raw `ws` client for protocol-level checks.
import { createClient, type Client, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { Mailbox } from '../../support/mailbox';

export type Received =
  | { readonly kind: 'next'; readonly data: unknown; readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[]; readonly cursor: string | null }
  | { readonly kind: 'error'; readonly errors: readonly { message: string; extensions?: Record<string, unknown> }[] }
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string }
  | { readonly kind: 'complete' };

/** A subscription whose messages are taken one at a time. */
export class Collector extends Mailbox<Received> {
  unsubscribe: () => void = () => undefined;

  override take(what = 'a subscription message', timeoutMs = 10_000): Promise<Received> {
    return super.take(what, timeoutMs);
  }

  async takeNext(what = 'an event'): Promise<Extract<Received, { kind: 'next' }>> {
    const item = await this.take(what);
    if (item.kind !== 'next') throw new Error(`Expected ${what}, got ${JSON.stringify(item)}`);
    return item;
  }
}

export function gatewayClient(url: string, connectionParams: Record<string, unknown> | undefined, onClosed?: (code: number, reason: string) => void): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(connectionParams ? { connectionParams } : {}),
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed?.(code, String(reason));
      },
    },
  });
}

function cursorOf(extensions: unknown): string | null {
  const cursor = (extensions as { cursor?: unknown } | undefined)?.cursor;
  return typeof cursor === 'string' ? cursor : null;
}

export function subscribe(client: Client, payload: SubscribePayload): Collector {
  const collector = new Collector();
  collector.unsubscribe = client.subscribe(payload, {
    next: (result) =>
      collector.push({
        kind: 'next',
        data: result.data,
        ...(result.errors ? { errors: result.errors as never } : {}),
        cursor: cursorOf(result.extensions),
      }),
    error: (error) => {
      if (Array.isArray(error)) collector.push({ kind: 'error', errors: error as never });
      else if (error && typeof error === 'object' && 'code' in error) {
        const e = error as { code: number; reason: string };
        collector.push({ kind: 'closed', code: e.code, reason: String(e.reason) });
      } else collector.push({ kind: 'error', errors: [{ message: String((error as Error)?.message ?? error) }] });
    },
    complete: () => collector.push({ kind: 'complete' }),
  });
  return collector;
}

/** A raw WebSocket speaking graphql-transport-ws by hand, recording messages and the close. */
export class RawClient {
  readonly socket: WebSocket;
  private readonly messages = new Collector();
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  /** `protocol` null: request no subprotocol at all. */
  constructor(url: string, protocol: string | null = 'graphql-transport-ws') {
    this.socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as never));
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Write only the header of a text frame announcing `length` bytes of payload, as a client about to
   * stream a huge message would: a server that refuses it now has not read (nor held) any of it.
   */
  announceMessage(length: number): void {
    const header = Buffer.alloc(14); // FIN + text, masked, 64-bit length, then a (zero) mask key
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
    (this.socket as unknown as { _socket: import('node:net').Socket })._socket.write(header);
  }

  /** The next protocol message if one comes within `ms`, else null. */
  poll(ms: number): Promise<Record<string, unknown> | null> {
    return this.messages.poll(ms) as never;
  }

  /** The next protocol message, as parsed JSON. */
  message(what?: string): Promise<Record<string, unknown>> {
    return this.messages.take(what) as never;
  }
}
