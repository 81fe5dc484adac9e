// Subscriptions over HTTP multipart at /graphql: Apollo's multipart subscription protocol (what
// Apollo Router serves and Apollo Client's HttpLink speaks), for a POST whose Accept asks for
// `multipart/mixed;subscriptionSpec="1.0"`. One response per subscription: each event a part
// `{"payload": <result>}` (its cursor in payload.extensions), a `{}` heartbeat part every
// keep-alive interval, and an ending with `{"payload": null, "errors": [...]}` when the
// subscription ends with an error (overflow, interruption, expiry: with the cursor to resume
// from), then the closing boundary.
import type http from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import type { Identity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import type { TransportName } from './subscription-metrics';
import { BodyTooLarge, readBody } from '../../platform/http-body';
import { sendErrors, StreamOutput, unauthenticated, unavailable } from './http-stream';
import { tokenOfAuthorization, type SubscriptionEngine } from './subscription-engine';
import type { SubscribePayload } from './subscribe-validation';

const TRANSPORT: TransportName = 'multipart';
const BOUNDARY = 'graphql';
// Every part is followed by its boundary at once (clients yield a part when they see the boundary
// after it): the body opens with a boundary, each part ends with one, and `--` closes the last.
const OPEN = `\r\n--${BOUNDARY}`;
const HEAD = `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n`;
const CLOSE = '--\r\n';
const HEARTBEAT = `${HEAD}{}${OPEN}`;

export interface MultipartTransport {
  /** Serve the request; false when it is not for this transport (left untouched). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, closing: boolean): boolean;
  close(): Promise<void>;
}

/** Whether the client asks for a multipart subscription response (Apollo Client's HttpLink does for subscriptions). */
export function acceptsMultipartSubscription(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /multipart\/mixed[^,]*subscriptionSpec/i.test(accept);
}

function eventFrame(payload: string): string {
  return `${HEAD}{"payload":${payload}}${OPEN}`;
}

function payloadOf(body: string): SubscribePayload | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    const { query, operationName, variables, extensions } = parsed as Record<string, unknown>;
    if (typeof query !== 'string') return null;
    const objectOrNull = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
    return {
      query,
      operationName: typeof operationName === 'string' ? operationName : null,
      variables: objectOrNull(variables),
      extensions: objectOrNull(extensions),
    };
  } catch {
    return null;
  }
}

export function serveMultipart(engine: SubscriptionEngine, logger: Logger): MultipartTransport {
  return new MultipartServer(engine, logger);
}

class MultipartServer implements MultipartTransport {
  private readonly open = new Set<http.ServerResponse>();

  constructor(
    private readonly engine: SubscriptionEngine,
    private readonly logger: Logger,
  ) {
    engine.countConnections(TRANSPORT, () => this.open.size);
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, closing: boolean): boolean {
    if (!acceptsMultipartSubscription(req)) return false;
    this.serve(req, res, closing).catch((error: unknown) => {
      this.logger.error({ err: error }, 'a multipart subscription failed');
      if (!res.headersSent) sendErrors(res, 500, [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      else res.destroy();
    });
    return true;
  }

  async close(): Promise<void> {
    // Each subscription ends with SUBSCRIPTION_INTERRUPTED and its cursor, and its response with it.
    this.engine.interrupt(TRANSPORT, 'the gateway is restarting');
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, closing: boolean): Promise<void> {
    const request = await this.accept(req, res, closing);
    if (!request) return;
    const { engine } = this;
    const { identity, payload } = request;
    const session = engine.openSession(identity, TRANSPORT);
    const prepared = engine.prepare(session, 'multipart', payload, undefined, req.headers);
    if (Array.isArray(prepared)) {
      engine.closeSession(session);
      sendErrors(res, 400, engine.clientErrors(payload, prepared));
      return;
    }
    const output = new StreamOutput();
    const started = engine.start(prepared, output.socket(eventFrame));
    this.open.add(res);
    res.writeHead(200, {
      'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.write(OPEN);
    output.attach(res);
    const heartbeat = setInterval(() => output.write(HEARTBEAT), engine.limits.keepAliveMs);
    heartbeat.unref();
    const finish = (errors: readonly GraphQLFormattedError[] | null) => {
      clearInterval(heartbeat);
      this.open.delete(res);
      engine.closeSession(session);
      if (!res.destroyed && !res.writableEnded) res.end(errors ? `${HEAD}${JSON.stringify({ payload: null, errors })}${OPEN}${CLOSE}` : CLOSE);
      output.end();
    };
    if (!(Symbol.asyncIterator in started)) {
      finish(engine.clientErrors(payload, started.errors));
      return;
    }
    res.once('close', () => void started.return(undefined));
    try {
      await started.next();
      finish(null);
    } catch (error) {
      finish(engine.clientErrors(payload, engine.errorsOf(error)));
    }
  }

  /** The caller and its subscribe, or null when the request was answered with an error already. */
  private async accept(req: http.IncomingMessage, res: http.ServerResponse, closing: boolean): Promise<{ identity: Identity; payload: SubscribePayload } | null> {
    const { engine } = this;
    if (req.method !== 'POST') {
      sendErrors(res, 405, [{ message: 'Multipart subscriptions are sent as POST.', extensions: { code: 'BAD_REQUEST' } }], { allow: 'POST' });
      return null;
    }
    const identity = engine.identify(tokenOfAuthorization(req.headers.authorization));
    if (!identity) {
      sendErrors(res, 401, [unauthenticated], { 'www-authenticate': 'Bearer' });
      return null;
    }
    if (closing || engine.full) {
      sendErrors(res, 503, [unavailable], { 'retry-after': '5' });
      return null;
    }
    let payload: SubscribePayload | null;
    try {
      payload = payloadOf(await readBody(req, engine.limits.maxPayloadBytes));
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendErrors(res, 413, [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }]);
        return null;
      }
      throw error;
    }
    if (!payload) {
      sendErrors(res, 400, [{ message: 'The body must be a JSON object with a query.', extensions: { code: 'BAD_REQUEST' } }]);
      return null;
    }
    return { identity, payload };
  }
}
