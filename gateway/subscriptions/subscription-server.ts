// Subscriptions at the gateway's /graphql, over three transports from one engine
// (subscription-engine.ts): graphql-ws on the HTTP server's upgrade (this file: authenticates the
// connection_init token, 4403 otherwise; protocol compliance — 4400, 4401, 4408, 4409, 4429,
// ping/pong — is graphql-ws's own), graphql-sse (sse-transport.ts) and Apollo's multipart HTTP
// subscriptions (multipart-transport.ts), both authenticated by the Authorization header.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { quietProtocolErrors } from '../../platform/ws-protocol-errors';
import { SubscriptionCloseCode } from '../../platform/subscription-protocol';
import type { GatewayContext } from '../context';
import { SubscriptionEngine, tokenOfAuthorization, type PreparedSubscription, type SubscriptionEngineOptions, type SubscriptionSession } from './subscription-engine';
import type { SubscribePayload } from './subscribe-validation';
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
  return new GatewaySubscriptions(options);
}

/** The sessions of the open graphql-ws connections, by socket (a connection is a session once authenticated). */
class ConnectionRegistry {
  private readonly sessions = new Map<WebSocket, SubscriptionSession>();

  constructor(private readonly engine: SubscriptionEngine) {}

  /** Authenticate a connection_init: false (4403) when its token is missing, invalid or expired. */
  connect(socket: WebSocket, params: Readonly<Record<string, unknown>> | undefined): boolean {
    const identity = this.engine.identify(tokenFrom(params));
    if (!identity) return false;
    this.sessions.set(socket, this.engine.openSession(identity, 'graphql-ws'));
    return true;
  }

  sessionOf(socket: WebSocket): SubscriptionSession | undefined {
    return this.sessions.get(socket);
  }

  disconnect(socket: WebSocket): void {
    const session = this.sessions.get(socket);
    if (session) this.engine.closeSession(session);
    this.sessions.delete(socket);
  }
}

class GatewaySubscriptions implements GatewaySubscriptionServer {
  private readonly engine: SubscriptionEngine;
  private readonly connections: ConnectionRegistry;
  private readonly wss: WebSocketServer;
  private readonly sse: SseTransport;
  private readonly multipart: MultipartTransport;
  private readonly disposable: { dispose(): void | Promise<void> };
  private closing = false;
  private closed: Promise<void> | null = null;

  constructor(private readonly options: GatewaySubscriptionOptions) {
    const engine = (this.engine = new SubscriptionEngine(options));
    const { limits } = engine;
    const { logger } = options;
    this.connections = new ConnectionRegistry(engine);
    // ws's own default (100 MiB) let a few unauthenticated connection_init messages take a gigabyte.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
    engine.countConnections('graphql-ws', () => this.wss.clients.size);
    this.sse = serveSse(engine, logger.child({ transport: 'sse' }));
    this.multipart = serveMultipart(engine, logger.child({ transport: 'multipart' }));
    options.httpServer.on('upgrade', this.onUpgrade);
    this.disposable = useServer(
      {
        connectionInitWaitTimeout: limits.connectionInitWaitTimeoutMs,
        onConnect: (ctx) => this.connections.connect(ctx.extra.socket, ctx.connectionParams),
        onClose: (ctx) => this.connections.disconnect(ctx.extra.socket),
        onSubscribe: (ctx, id, payload) => this.executionArgs(ctx.extra.socket, id, payload),
        subscribe: (args) => {
          const ctx = args.contextValue as SubscribeContext;
          // Sent as a result when it cannot start (graphql-ws does not pass it through onError).
          return engine.start(ctx.prepared, { send: (message, written) => ctx.socket.send(message, written) });
        },
        onError: (_ctx, _id, payload, errors) => engine.clientErrors(payload, errors),
      },
      this.wss,
      limits.keepAliveMs,
    );
    quietProtocolErrors(this.wss, logger);
  }

  get connectionCount(): number {
    return this.engine.connectionCount;
  }

  get subscriptionCount(): number {
    return this.engine.subscriptionCount;
  }

  get upstreamSubscriptionCount(): number {
    return this.engine.upstreamSubscriptionCount;
  }

  handleHttp(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (wantsSse(req)) {
      this.sse.handle(req, res, this.closing);
      return true;
    }
    if (acceptsMultipartSubscription(req)) return this.multipart.handle(req, res, this.closing);
    return false;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.options.httpServer.off('upgrade', this.onUpgrade);
      // Clients reconnect after ServiceRestart (to another instance) and resume with their last cursor;
      // SSE and multipart subscriptions end with SUBSCRIPTION_INTERRUPTED and that cursor.
      for (const client of this.wss.clients) client.close(SubscriptionCloseCode.ServiceRestart, 'Gateway restarting: reconnect and resume');
      await Promise.all([this.sse.close(), this.multipart.close()]);
      await this.disposable.dispose();
      await this.engine.close();
    })();
    return this.closed;
  }

  private readonly onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== '/graphql') return; // not ours: another upgrade handler may take it
    if (this.closing || this.engine.full) {
      this.options.logger.warn({ connections: this.engine.connectionCount, max: this.engine.limits.maxConnections }, 'refusing a WebSocket: connection limit');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  };

  /** A subscribe checked by the engine, as graphql-ws executes it; or the errors it is refused with. */
  private executionArgs(socket: WebSocket, id: string, payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] {
    const session = this.connections.sessionOf(socket);
    if (!session) return [new GraphQLError('The connection is not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
    const prepared = this.engine.prepare(session, id, payload);
    if (Array.isArray(prepared)) return prepared;
    const contextValue: SubscribeContext = {
      identity: session.identity,
      correlationId: `${session.correlationId}:${id}`,
      prepared,
      socket,
    };
    return {
      schema: this.engine.planner.schema,
      document: prepared.document,
      ...(payload.operationName ? { operationName: payload.operationName } : {}),
      variableValues: prepared.variables,
      contextValue,
    };
  }
}
