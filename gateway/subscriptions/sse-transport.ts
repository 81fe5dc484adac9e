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
import { createHandler, type Request, type Response } from 'graphql-sse';
import type { Identity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import type { TransportName } from './subscription-metrics';
import { BodyTooLarge, readBody, sendErrors, StreamOutput, unauthenticated, unavailable } from './http-stream';
import { tokenOfAuthorization, type SubscribePayload, type SubscriptionEngine, type SubscriptionIterator, type SubscriptionSession } from './subscription-engine';

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
  const reserved = new Map<string, ReservedStream>();
  /** Open event streams (either mode): connections against the gateway's limit. */
  const open = new Set<http.ServerResponse>();
  engine.countConnections(TRANSPORT, () => open.size);
  let closing = false;

  /** The ending of a started subscription as the handler iterates it: nothing, or one `next` with the errors. */
  const endingOf = (payload: SubscribePayload, started: ReturnType<SubscriptionEngine['start']>): AsyncIterableIterator<ExecutionResult> => {
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
  };

  const handler = createHandler<http.IncomingMessage, RequestContext>({
    authenticate: (req) => {
      if (req.context.purge) return req.context.purge;
      const identity = engine.identify(tokenOfAuthorization(req.raw.headers.authorization));
      if (!identity) return json({ errors: [unauthenticated] }, 401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
      req.context.identity = identity;
      if (req.method === 'PUT') {
        if (closing || engine.full) return json({ errors: [unavailable] }, 503, 'Service Unavailable', { 'retry-after': '5' });
        const token = randomUUID();
        const stream: ReservedStream = { owner: identity, session: engine.openSession(identity, TRANSPORT), output: new StreamOutput() };
        reserved.set(token, stream);
        // A reservation must be connected to as a connection_init must come: in time.
        const timer = setTimeout(() => {
          if (!stream.output.attached) void purge(token, stream);
        }, engine.limits.connectionInitWaitTimeoutMs);
        timer.unref();
        return token;
      }
      const token = streamTokenOf(req);
      if (token === null) return null; // the distinct connections mode
      const stream = reserved.get(token);
      // Someone else's stream is as good as none.
      if (!stream || stream.owner.sub !== identity.sub || stream.owner.role !== identity.role) {
        return json({ errors: [{ message: 'Stream not found: reserve one with PUT first.', extensions: { code: 'NOT_FOUND' } }] }, 404, 'Not Found');
      }
      req.context.reserved = stream;
      req.context.streamToken = token;
      return token;
    },
    onConnect: (req) => {
      if (req.context.purge) return undefined;
      if (closing || engine.full) return json({ errors: [unavailable] }, 503, 'Service Unavailable', { 'retry-after': '5' });
      return undefined;
    },
    onSubscribe: (req, params) => {
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
      return endingOf(params, engine.start(prepared, socket));
    },
  });

  /**
   * Forget a reservation nobody connected to: ours, and the handler's (it keeps a stream per token
   * until that stream's response ends), by opening its stream from here and ending it at once.
   */
  async function purge(token: string, stream: ReservedStream): Promise<void> {
    if (reserved.get(token) !== stream) return;
    reserved.delete(token);
    engine.closeSession(stream.session);
    stream.output.end();
    const context: RequestContext = { identity: null, output: new StreamOutput(), session: null, reserved: null, streamToken: null, purge: token };
    const [body] = await handler({
      method: 'GET',
      url: '/graphql',
      headers: { get: (key) => (key.toLowerCase() === 'accept' ? 'text/event-stream' : undefined) },
      body: null,
      raw: { headers: {} } as http.IncomingMessage,
      context,
    });
    if (body && typeof body !== 'string') await body.return(undefined);
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const context: RequestContext = { identity: null, output: new StreamOutput(), session: null, reserved: null, streamToken: null };
    let body: string | null = null;
    const readOnce = async (): Promise<string> => (body ??= await readBody(req, engine.limits.maxPayloadBytes));
    let response: Response;
    try {
      response = await handler({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: {
          get: (key) => {
            const value = req.headers[key.toLowerCase()];
            // The handler matches Accept exactly; a client listing more types (urql) still asked for a stream first.
            if (key.toLowerCase() === 'accept' && typeof value === 'string' && value.split(',')[0]?.trim().startsWith('text/event-stream')) return 'text/event-stream';
            return Array.isArray(value) ? value.join('\n') : value;
          },
        },
        body: readOnce,
        raw: req,
        context,
      });
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendErrors(res, 413, [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }]);
        return;
      }
      throw error;
    }
    const [stream, init] = response;
    if (!stream || typeof stream === 'string') {
      if (context.session) engine.closeSession(context.session);
      res.writeHead(init.status, init.statusText, init.headers);
      res.end(stream ?? undefined);
      return;
    }
    // An event stream: this request's own (distinct mode), or the reserved one it connects to.
    const output = context.reserved?.output ?? context.output;
    const token = context.streamToken;
    open.add(res);
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
      logger.warn({ err: error }, 'an event stream failed');
    } finally {
      res.off('close', abandon);
      open.delete(res);
      output.end();
      if (context.session) engine.closeSession(context.session);
      if (token !== null && context.reserved) {
        engine.closeSession(context.reserved.session);
        reserved.delete(token);
      }
      if (!res.writableEnded) res.end();
    }
  };

  return {
    handle: (req, res, gatewayClosing) => {
      if (gatewayClosing) closing = true;
      handle(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'an SSE request failed');
        if (!res.headersSent) sendErrors(res, 500, [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
        else res.destroy();
      });
    },
    close: async () => {
      closing = true;
      // Each subscription ends with SUBSCRIPTION_INTERRUPTED and its cursor; the handler then
      // completes it, and a distinct stream ends with it. Single connection streams are ended
      // once their operations have been told.
      engine.interrupt(TRANSPORT, 'the gateway is restarting');
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      for (const res of open) res.end();
    },
  };
}

function once(result: ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  return (async function* () {
    yield result;
  })();
}
