// Raw HTTP subscription streams (SSE and multipart) read with fetch, message by message, so tests
// see the protocol itself: SSE ids and events, multipart parts, heartbeats, endings.
import { Mailbox } from '../../support/mailbox';

export interface StreamMessage {
  /** SSE: the event name (`next`, `complete`); multipart: `part`. */
  readonly event: string;
  /** SSE: the `id` field, if any. */
  readonly id?: string;
  /** The JSON of the message, or null when it has none. */
  readonly data: Record<string, unknown> | null;
}

export class RawStream {
  readonly response: Promise<Response>;
  private readonly controller = new AbortController();
  private readonly received = new Mailbox<StreamMessage | 'end'>();
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private paused = false;
  private pump: (() => void) | null = null;

  constructor(url: string, init: RequestInit, private readonly kind: 'sse' | 'multipart') {
    this.response = fetch(url, { ...init, signal: this.controller.signal });
    void this.read();
  }

  /** Stop reading the body (the client falls behind); resume() reads on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const pump = this.pump;
    this.pump = null;
    pump?.();
  }

  abort(): void {
    this.controller.abort();
  }

  private push(item: StreamMessage | 'end'): void {
    this.received.push(item);
  }

  private async read(): Promise<void> {
    let response: Response;
    try {
      response = await this.response;
    } catch {
      this.push('end');
      return;
    }
    if (!response.body || !response.ok) {
      this.push('end');
      return;
    }
    this.reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const separator = this.kind === 'sse' ? '\n\n' : '\r\n--graphql';
    try {
      for (;;) {
        if (this.paused) await new Promise<void>((resolve) => (this.pump = resolve));
        const { value, done } = await this.reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let at = buffer.indexOf(separator); at >= 0; at = buffer.indexOf(separator)) {
          const chunk = buffer.slice(0, at);
          buffer = buffer.slice(at + separator.length);
          const message = this.kind === 'sse' ? sseMessage(chunk) : partMessage(chunk);
          if (message) this.push(message);
        }
      }
    } catch {
      // aborted or cut
    }
    this.push('end');
  }

  take(what: string, timeoutMs = 15_000): Promise<StreamMessage | 'end'> {
    return this.received.take(what, timeoutMs);
  }

  /** The next message with data (SSE comments and multipart heartbeats `{}` skipped). */
  async takeData(what: string): Promise<StreamMessage> {
    for (;;) {
      const item = await this.take(what);
      if (item === 'end') throw new Error(`The stream ended while waiting for ${what}`);
      if (item.data && Object.keys(item.data).length > 0) return item;
    }
  }

  async poll(ms: number): Promise<StreamMessage | null> {
    try {
      for (;;) {
        const item = await this.take('a message', ms);
        if (item === 'end') return null;
        if (item.data && Object.keys(item.data).length > 0) return item;
      }
    } catch {
      return null;
    }
  }
}

function sseMessage(chunk: string): StreamMessage | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of chunk.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (event === 'message' && data.length === 0) return null; // a comment (keep-alive)
  const text = data.join('\n');
  return { event, ...(id !== undefined ? { id } : {}), data: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

function partMessage(chunk: string): StreamMessage | null {
  const body = chunk.indexOf('\r\n\r\n');
  if (body === -1) return null; // the preamble, or the closing `--`
  return { event: 'part', data: JSON.parse(chunk.slice(body + 4)) as Record<string, unknown> };
}
