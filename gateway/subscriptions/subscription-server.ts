// Subscriptions at the gateway's /graphql, over three transports from one engine
// (subscription-engine.ts): graphql-ws on the HTTP server's upgrade (this file: authenticates the
// connection_init token, 4403 otherwise; protocol compliance — 4400, 4401, 4408, 4409, 4429,
// ping/pong — is graphql-ws's own), graphql-sse (sse-transport.ts) and Apollo's multipart HTTP
// subscriptions (multipart-transport.ts), both authenticated by the Authorization header.
import type http from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { quietProtocolErrors } from '../../platform/ws-protocol-errors';
import { SubscriptionCloseCode } from '../../platform/subscription-protocol';
import type { GatewayContext } from '../context';
import { SubscriptionEngine, tokenOfAuthorization, type PreparedSubscription, type SubscriptionEngineOptions, type SubscriptionSession } from './subscription-engine';
import { acceptsMultipartSubscription, serveMultipart, type MultipartTransport } from './multipart-transport';
import { serveSse, wantsSse, type SseTransport } from './sse-transport';

export { defaultSubscriptionLimits, realTimers, type SubscriptionLimits, type Timers } from './subscription-engine';

export interface GatewaySubscriptionOptions extends SubscriptionEngineOptions {
  readonly httpServer: http.Server;
}

export interface GatewaySubscriptionServer {
  /** Connections over every transport (WebSockets, SSE streams, multipart responses). */
  readonly connectionCount: number;
  readonly subscriptionCount: number;
  /** Subscriptions open on subgraphs: one per group of identical client subscriptions, one per resume. */
  readonly upstreamSubscriptionCount: number;
  /**
   * Serve an HTTP request if it is a subscription over SSE or multipart (by its method and Accept
   * header); false when it is not, and the request is left untouched for Apollo.
   */
  handleHttp(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  close(): Promise<void>;
}

function tokenFrom(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  const authorization = params.authorization ?? params.Authorization;
  if (typeof authorization === 'string' && authorization !== '') return tokenOfAuthorization(authorization);
  return typeof params.token === 'string' && params.token !== '' ? params.token : null;
}

/** What `onSubscribe` hands to `subscribe` through the execution context. */
interface SubscribeContext extends GatewayContext {
  readonly prepared: PreparedSubscription;
  /** The client's WebSocket, which its events are written to. */
  readonly socket: WebSocket;
}

export function serveGatewaySubscriptions(options: GatewaySubscriptionOptions): GatewaySubscriptionServer {
  const engine = new SubscriptionEngine(options);
  const { limits } = engine;
  const { logger } = options;
  const sessions = new Map<WebSocket, SubscriptionSession>();
  // ws's own default (100 MiB) let a few unauthenticated connection_init messages take a gigabyte.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  engine.countConnections('graphql-ws', () => wss.clients.size);
  const sse: SseTransport = serveSse(engine, logger.child({ transport: 'sse' }));
  const multipart: MultipartTransport = serveMultipart(engine, logger.child({ transport: 'multipart' }));
  let closing = false;
  let closed: Promise<void> | null = null;

  const onUpgrade = (request: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== '/graphql') return; // not ours: another upgrade handler may take it
    if (closing || engine.full) {
      logger.warn({ connections: engine.connectionCount, max: limits.maxConnections }, 'refusing a WebSocket: connection limit');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.httpServer.on('upgrade', onUpgrade);

  const disposable = useServer(
    {
      connectionInitWaitTimeout: limits.connectionInitWaitTimeoutMs,
      onConnect: (ctx) => {
        const identity = engine.identify(tokenFrom(ctx.connectionParams));
        if (!identity) return false;
        sessions.set(ctx.extra.socket, engine.openSession(identity, 'graphql-ws'));
        return true;
      },
      onClose: (ctx) => {
        const session = sessions.get(ctx.extra.socket);
        if (session) engine.closeSession(session);
        sessions.delete(ctx.extra.socket);
      },
      onSubscribe: (ctx, id, payload): ExecutionArgs | readonly GraphQLError[] => {
        const session = sessions.get(ctx.extra.socket);
        if (!session) return [new GraphQLError('The connection is not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
        const prepared = engine.prepare(session, id, payload);
        if (Array.isArray(prepared)) return prepared;
        const contextValue: SubscribeContext = {
          identity: session.identity,
          correlationId: `${session.correlationId}:${id}`,
          prepared,
          socket: ctx.extra.socket,
        };
        return {
          schema: engine.planner.schema,
          document: prepared.document,
          ...(payload.operationName ? { operationName: payload.operationName } : {}),
          variableValues: prepared.variables,
          contextValue,
        };
      },
      subscribe: (args) => {
        const ctx = args.contextValue as SubscribeContext;
        // Sent as a result when it cannot start (graphql-ws does not pass it through onError).
        return engine.start(ctx.prepared, { send: (message, written) => ctx.socket.send(message, written) });
      },
      onError: (_ctx, _id, payload, errors) => engine.clientErrors(payload, errors),
    },
    wss,
    limits.keepAliveMs,
  );

  quietProtocolErrors(wss, logger);

  return {
    get connectionCount() {
      return engine.connectionCount;
    },
    get subscriptionCount() {
      return engine.subscriptionCount;
    },
    get upstreamSubscriptionCount() {
      return engine.upstreamSubscriptionCount;
    },
    handleHttp: (req, res) => {
      if (wantsSse(req)) {
        sse.handle(req, res, closing);
        return true;
      }
      if (acceptsMultipartSubscription(req)) return multipart.handle(req, res, closing);
      return false;
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        options.httpServer.off('upgrade', onUpgrade);
        // Clients reconnect after ServiceRestart (to another instance) and resume with their last cursor;
        // SSE and multipart subscriptions end with SUBSCRIPTION_INTERRUPTED and that cursor.
        for (const client of wss.clients) client.close(SubscriptionCloseCode.ServiceRestart, 'Gateway restarting: reconnect and resume');
        await Promise.all([sse.close(), multipart.close()]);
        await disposable.dispose();
        await engine.close();
      })();
      return closed;
    },
  };
}
