// Subscriptions over Server-Sent Events at /graphql, the graphql-sse protocol in both its modes,
// through the graphql-sse package's server handler: it owns the protocol (the distinct connections
// mode's one stream per operation; the single connection mode's PUT reservation, stream and
// operation POSTs and DELETEs, their status codes) and this file adapts it to Node's http and to
// the engine. As with graphql-ws (client-subscription.ts), events are written to the stream
// directly, serialized once for all clients; the iterator the handler gets yields only the ending
// (a `next` with the errors, if any), then the handler completes.
//
// Authentication is the Authorization header's bearer token, on every request; a stream reserved
// with a token is its owner's, and operations for it must come from the same subject. In the
// distinct connections mode each event carries its cursor as the SSE `id`, so a client reconnecting
// with the standard Last-Event-ID header resumes from it (as with extensions.cursor).
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { ExecutionResult } from 'graphql';
import { createHandler, type Handler, type Request, type Response } from 'graphql-sse';
import type { Identity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import type { TransportName } from './subscription-metrics';
import { BodyTooLarge, readBody } from '../../platform/http-body';
import { sendErrors, StreamOutput, unauthenticated, unavailable } from './http-stream';
import { tokenOfAuthorization, type SubscriptionEngine, type SubscriptionIterator, type SubscriptionSession } from './subscription-engine';
import type { SubscribePayload } from './subscribe-validation';

const TRANSPORT: TransportName = 'sse';
const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';

export interface SseTransport {
  handle(req: http.IncomingMessage, res: http.ServerResponse, closing: boolean): void;
  close(): Promise<void>;
}

/** Whether a request to /graphql speaks graphql-sse: an event stream asked for first, or the single connection mode's requests. */
export function wantsSse(req: http.IncomingMessage): boolean {
  if (req.method === 'PUT' || req.method === 'DELETE') return true;
  if (req.headers[STREAM_TOKEN_HEADER] !== undefined) return true;
  const first = (req.headers.accept ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  return first === 'text/event-stream';
}

/** A reserved stream of the single connection mode. */
interface ReservedStream {
  readonly owner: Identity;
  readonly session: SubscriptionSession;
  readonly output: StreamOutput;
}

interface RequestContext {
  identity: Identity | null;
  /** The distinct connections mode's stream (this request's response). */
  readonly output: StreamOutput;
  session: SubscriptionSession | null;
  reserved: ReservedStream | null;
  /** The reserved stream's token, when the request names one of its owner's. */
  streamToken: string | null;
  /** Set on the handler's own request that disposes of a reservation nobody connected to. */
  readonly purge?: string;
}

type SseRequest = Request<http.IncomingMessage, RequestContext>;

function json(body: unknown, status: number, statusText: string, headers: Record<string, string> = {}): Response {
  return [JSON.stringify(body), { status, statusText, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } }];
}

function streamTokenOf(req: SseRequest): string | null {
  const header = req.headers.get(STREAM_TOKEN_HEADER);
  if (header) return header;
  return new URL(req.url, 'http://gateway').searchParams.get('token');
}

/** An event of one operation: SSE `next`, with the cursor as its id in the distinct mode. */
function distinctFrame(payload: string, cursor: string | null): string {
  return cursor === null ? `event: next\ndata: ${payload}\n\n` : `id: ${cursor}\nevent: next\ndata: ${payload}\n\n`;
}

function singleFrame(operationId: string): (payload: string) => string {
  const prefix = `event: next\ndata: {"id":${JSON.stringify(operationId)},"payload":`;
  return (payload) => `${prefix}${payload}}\n\n`;
}

export function serveSse(engine: SubscriptionEngine, logger: Logger): SseTransport {
  return new SseServer(engine, logger);
}

/** The ending of a started subscription as the handler iterates it: nothing, or one `next` with the errors. */
function endingOf(engine: SubscriptionEngine, payload: SubscribePayload, started: ReturnType<SubscriptionEngine['start']>): AsyncIterableIterator<ExecutionResult> {
  if (!(Symbol.asyncIterator in started)) return once({ errors: engine.clientErrors(payload, started.errors) as never });
  let finished = false;
  const ending: SubscriptionIterator = {
    next: async () => {
      if (finished) return { done: true, value: undefined };
      try {
        await started.next();
        finished = true;
        return { done: true, value: undefined };
      } catch (error) {
        finished = true;
        return { done: false, value: { errors: engine.clientErrors(payload, engine.errorsOf(error)) as never } };
      }
    },
    return: async () => {
      finished = true;
      await started.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      finished = true;
      await started.return(undefined);
      throw error;
    },
    [Symbol.asyncIterator]: () => ending,
  };
  return ending;
}

/** The graphql-sse handler as a header reader: a client listing more types than an event stream (urql) still asked for one first. */
function headersOf(req: http.IncomingMessage): SseRequest['headers'] {
  return {
    get: (key) => {
      const value = req.headers[key.toLowerCase()];
      if (key.toLowerCase() === 'accept' && typeof value === 'string' && value.split(',')[0]?.trim().startsWith('text/event-stream')) return 'text/event-stream';
      return Array.isArray(value) ? value.join('\n') : value;
    },
  };
}

const newContext = (): RequestContext => ({ identity: null, output: new StreamOutput(), session: null, reserved: null, streamToken: null });

class SseServer implements SseTransport {
  private readonly reserved = new Map<string, ReservedStream>();
  /** Open event streams (either mode): connections against the gateway's limit. */
  private readonly open = new Set<http.ServerResponse>();
  private closing = false;
  private readonly handler: Handler<http.IncomingMessage, RequestContext>;

  constructor(
    private readonly engine: SubscriptionEngine,
    private readonly logger: Logger,
  ) {
    engine.countConnections(TRANSPORT, () => this.open.size);
    this.handler = createHandler<http.IncomingMessage, RequestContext>({
      authenticate: (req) => this.authenticate(req),
      onConnect: (req) => {
        if (req.context.purge) return undefined;
        if (this.closing || engine.full) return json({ errors: [unavailable] }, 503, 'Service Unavailable', { 'retry-after': '5' });
        return undefined;
      },
      onSubscribe: (req, params) => this.subscribe(req, params),
    });
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, gatewayClosing: boolean): void {
    if (gatewayClosing) this.closing = true;
    this.serve(req, res).catch((error: unknown) => {
      this.logger.error({ err: error }, 'an SSE request failed');
      if (!res.headersSent) sendErrors(res, 500, [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      else res.destroy();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    // Each subscription ends with SUBSCRIPTION_INTERRUPTED and its cursor; the handler then
    // completes it, and a distinct stream ends with it. Single connection streams are ended
    // once their operations have been told.
    this.engine.interrupt(TRANSPORT, 'the gateway is restarting');
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    for (const res of this.open) res.end();
  }

  /** The caller's identity, and in the single connection mode its reservation (PUT) or its reserved stream. */
  private authenticate(req: SseRequest): Response | string | null {
    if (req.context.purge) return req.context.purge;
    const identity = this.engine.identify(tokenOfAuthorization(req.raw.headers.authorization));
    if (!identity) return json({ errors: [unauthenticated] }, 401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
    req.context.identity = identity;
    if (req.method === 'PUT') return this.reserve(identity);
    const token = streamTokenOf(req);
    if (token === null) return null; // the distinct connections mode
    const stream = this.reserved.get(token);
    // Someone else's stream is as good as none.
    if (!stream || stream.owner.sub !== identity.sub || stream.owner.role !== identity.role) {
      return json({ errors: [{ message: 'Stream not found: reserve one with PUT first.', extensions: { code: 'NOT_FOUND' } }] }, 404, 'Not Found');
    }
    req.context.reserved = stream;
    req.context.streamToken = token;
    return token;
  }

  /** Reserve a stream of the single connection mode; its token. */
  private reserve(identity: Identity): Response | string {
    const { engine } = this;
    if (this.closing || engine.full) return json({ errors: [unavailable] }, 503, 'Service Unavailable', { 'retry-after': '5' });
    const token = randomUUID();
    const stream: ReservedStream = { owner: identity, session: engine.openSession(identity, TRANSPORT), output: new StreamOutput() };
    this.reserved.set(token, stream);
    // A reservation must be connected to as a connection_init must come: in time.
    const timer = setTimeout(() => {
      if (!stream.output.attached) void this.purge(token, stream);
    }, engine.limits.connectionInitWaitTimeoutMs);
    timer.unref();
    return token;
  }

  private subscribe(req: SseRequest, params: SubscribePayload): AsyncIterableIterator<ExecutionResult> {
    const { engine } = this;
    const ctx = req.context;
    const identity = ctx.identity as Identity;
    const single = ctx.reserved;
    const operationId = single ? String(params.extensions?.operationId ?? '') : '';
    let session: SubscriptionSession;
    if (single) session = single.session;
    else session = ctx.session ??= engine.openSession(identity, TRANSPORT);
    const lastEventId = single ? undefined : (req.raw.headers['last-event-id'] ?? undefined);
    const prepared = engine.prepare(session, single ? operationId : 'sse', params, lastEventId === '' ? undefined : lastEventId, req.raw.headers);
    if (Array.isArray(prepared)) return once({ errors: engine.clientErrors(params, prepared) as never });
    const socket = single ? single.output.socket(singleFrame(operationId)) : ctx.output.socket(distinctFrame);
    return endingOf(engine, params, engine.start(prepared, socket));
  }

  /**
   * Forget a reservation nobody connected to: ours, and the handler's (it keeps a stream per token
   * until that stream's response ends), by opening its stream from here and ending it at once.
   */
  private async purge(token: string, stream: ReservedStream): Promise<void> {
    if (this.reserved.get(token) !== stream) return;
    this.reserved.delete(token);
    this.engine.closeSession(stream.session);
    stream.output.end();
    const [body] = await this.handler({
      method: 'GET',
      url: '/graphql',
      headers: { get: (key) => (key.toLowerCase() === 'accept' ? 'text/event-stream' : undefined) },
      body: null,
      raw: { headers: {} } as http.IncomingMessage,
      context: { ...newContext(), purge: token },
    });
    if (body && typeof body !== 'string') await body.return(undefined);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const context = newContext();
    let body: string | null = null;
    const readOnce = async (): Promise<string> => (body ??= await readBody(req, this.engine.limits.maxPayloadBytes));
    let response: Response;
    try {
      response = await this.handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers: headersOf(req), body: readOnce, raw: req, context });
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendErrors(res, 413, [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }]);
        return;
      }
      throw error;
    }
    const [stream, init] = response;
    if (!stream || typeof stream === 'string') {
      if (context.session) this.engine.closeSession(context.session);
      res.writeHead(init.status, init.statusText, init.headers);
      res.end(stream ?? undefined);
      return;
    }
    await this.pump(res, stream, init, context);
  }

  /** Write an event stream: this request's own (distinct mode), or the reserved one it connects to. */
  private async pump(res: http.ServerResponse, stream: AsyncGenerator<string>, init: Response[1], context: RequestContext): Promise<void> {
    const output = context.reserved?.output ?? context.output;
    const token = context.streamToken;
    this.open.add(res);
    res.writeHead(init.status, init.statusText, { ...init.headers, 'x-accel-buffering': 'no' });
    res.flushHeaders();
    output.attach(res);
    const abandon = () => void stream.return(undefined);
    res.once('close', abandon);
    try {
      for await (const message of stream) {
        if (res.destroyed || res.writableEnded) break;
        await new Promise<void>((resolve) => res.write(message, () => resolve()));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'an event stream failed');
    } finally {
      res.off('close', abandon);
      this.open.delete(res);
      output.end();
      if (context.session) this.engine.closeSession(context.session);
      if (token !== null && context.reserved) {
        this.engine.closeSession(context.reserved.session);
        this.reserved.delete(token);
      }
      if (!res.writableEnded) res.end();
    }
  }
}

function once(result: ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  return (async function* () {
    yield result;
  })();
}
