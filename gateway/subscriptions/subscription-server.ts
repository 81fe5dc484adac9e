// graphql-ws at the gateway, on the HTTP server's own /graphql: authenticates the connection_init
// token (4403 otherwise), validates each subscribe against the supergraph's API schema, runs it
// federated, sharing one upstream subscription among identical client subscriptions
// (shared-subscriptions.ts), and bounds everything: connections per gateway, subscriptions per
// connection, events per subscription. A token's expiry ends its subscriptions.
// Protocol compliance (4400, 4401, 4408, 4409, 4429, ping/pong) is graphql-ws's own.
import { TRACEPARENT, TRACESTATE, tracingEnabled } from '../../platform/tracing';
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  GraphQLError,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { LRUCache } from 'lru-cache';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ServiceMap } from '@apollo/gateway';
import { bearerToken, verifyClientToken, type Identity } from '../../platform/auth';
import { systemClock, type Clock } from '../../platform/clock';
import { isDomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { parseCursor } from '../../messaging/live/resume-merge';
import type { ClientErrorOptions } from '../../platform/client-errors';
import type { GatewayContext } from '../context';
import { clientOperation, toClientError } from '../client-errors';
import { gatewayErrorFormatter, INTERNAL_ERROR_MESSAGE } from '../format-error';
import { defaultQueryLimits, limitedParseOptions, queryLimitRules, type QueryLimits } from '../query-limits';
import type { FederatedSubscription } from './client-subscription';
import { SharedSubscriptions, type SubscriptionObserver } from './shared-subscriptions';
import { tokenExpiredError, TOO_MANY_SUBSCRIPTIONS, UpstreamErrors } from './subscription-errors';
import { SubscriptionPlanner } from './subscription-planner';
import { CURSOR_EXTENSION, UpstreamClients } from './upstream-clients';

/** Close code sent to clients when the gateway shuts down: reconnect (to another instance). */
export const SERVICE_RESTART = 1012;
/** Longest delay a Node timer takes; longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Timers as a dependency, so tests fire a token's expiry instead of waiting for it. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SubscriptionLimits {
  /** WebSocket connections one gateway accepts; more get HTTP 503 at the upgrade. */
  readonly maxConnections: number;
  readonly maxSubscriptionsPerConnection: number;
  /** Events held per subscription for a slow client. */
  readonly bufferSize: number;
  /** Time a client has to send connection_init (4408 after). */
  readonly connectionInitWaitTimeoutMs: number;
  /** WebSocket ping interval that detects dead peers. */
  readonly keepAliveMs: number;
  /** Largest message taken; `ws` closes the socket with 1009 on a bigger one, from its frame header. */
  readonly maxPayloadBytes: number;
}

export const defaultSubscriptionLimits: SubscriptionLimits = {
  maxConnections: 10_000,
  maxSubscriptionsPerConnection: 100,
  bufferSize: 1000,
  connectionInitWaitTimeoutMs: 3000,
  keepAliveMs: 12_000,
  maxPayloadBytes: 1_048_576,
};

export interface GatewaySubscriptionOptions {
  readonly httpServer: http.Server;
  readonly supergraphSdl: string;
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** Data sources for the per-event fetches, by subgraph name. */
  readonly services: ServiceMap;
  readonly jwtSecret: string;
  /** Longest client token lifetime accepted (DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS when absent). */
  readonly jwtMaxLifetimeSeconds?: number;
  readonly subgraphSecret: string;
  readonly logger: Logger;
  readonly limits?: Partial<SubscriptionLimits>;
  /** The gateway's limits on operations, as over HTTP (defaultQueryLimits when absent). */
  readonly queryLimits?: QueryLimits;
  /** What errors may show clients (no suggestions in production); as in development when absent. */
  readonly clientErrors?: ClientErrorOptions;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly observer?: SubscriptionObserver;
}

export interface GatewaySubscriptionServer {
  readonly connectionCount: number;
  readonly subscriptionCount: number;
  /** Subscriptions open on subgraphs: one per group of identical client subscriptions, one per resume. */
  readonly upstreamSubscriptionCount: number;
  close(): Promise<void>;
}

interface ConnectionState {
  identity: Identity | null;
  readonly correlationId: string;
  /**
   * Subscriptions accepted and not ended yet: counted in onSubscribe, before graphql-ws awaits
   * anything, so subscribes sent back to back cannot all pass the limit before any has started.
   */
  accepted: number;
  readonly subscriptions: Map<string, FederatedSubscription>;
  expiryTimer: unknown;
  expired: boolean;
}

/** Count an accepted subscription on its connection; the returned release (idempotent) uncounts it. */
function countAccepted(state: ConnectionState): () => void {
  state.accepted += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    state.accepted -= 1;
  };
}

/** What `onSubscribe` hands to `subscribe` through the execution context. */
interface SubscribeContext extends GatewayContext {
  readonly subscriptionId: string;
  /** The client's WebSocket, which its events are written to. */
  readonly socket: WebSocket;
  readonly connection: ConnectionState;
  readonly cursor: string | null;
  /** Frees the subscription's place in its connection's limit once it ends (or fails to start). */
  readonly release: () => void;
}

/** A client's W3C trace context from its subscribe message's `extensions` (traceparent, tracestate), while tracing. */
function clientTrace(extensions: Readonly<Record<string, unknown>> | null | undefined): Record<string, string> | null {
  if (!tracingEnabled() || !extensions || typeof extensions[TRACEPARENT] !== 'string') return null;
  const state = extensions[TRACESTATE];
  return { [TRACEPARENT]: extensions[TRACEPARENT], ...(typeof state === 'string' ? { [TRACESTATE]: state } : {}) };
}

function tokenFrom(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  const authorization = params.authorization ?? params.Authorization;
  if (typeof authorization === 'string' && authorization !== '') return bearerToken(authorization);
  return typeof params.token === 'string' && params.token !== '' ? params.token : null;
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    extensions: { ...error.extensions, code },
  });
}

/** An error as graphql-ws would send it, coded (the gateway's formatter then makes it client-safe). */
function codedErrors(error: GraphQLError): GraphQLFormattedError[] {
  const original = error.originalError;
  if (original instanceof UpstreamErrors) return [...original.errors];
  const json = error.toJSON();
  const code = json.extensions?.code;
  if (typeof code === 'string') return [json];
  if (isDomainError(original)) return [{ ...json, extensions: { ...original.details, code: original.code } }];
  return [{ ...json, extensions: { ...json.extensions, code: 'INTERNAL_SERVER_ERROR' } }];
}

/** Validated subscribe documents kept per gateway. */
const VALIDATED_DOCUMENTS_KEPT = 1000;

export function serveGatewaySubscriptions(options: GatewaySubscriptionOptions): GatewaySubscriptionServer {
  const limits = { ...defaultSubscriptionLimits, ...options.limits };
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? realTimers;
  const { logger } = options;
  const formatError = gatewayErrorFormatter(logger, options.clientErrors ?? { hideSuggestions: false });
  const planner = new SubscriptionPlanner(options.supergraphSdl);
  const queryLimits = options.queryLimits ?? defaultQueryLimits;
  const parseOptions = limitedParseOptions(queryLimits);
  const validationRules = [...specifiedRules, ...queryLimitRules(queryLimits)];
  // Documents that passed parsing and validation, by their text. Clients reconnecting after a
  // gateway restart send the same few documents thousands of times; parsing and validating each
  // again cost about 0.4 ms (more than planning, which is cached too). The least recently used go first.
  const validated = new LRUCache<string, DocumentNode>({ max: VALIDATED_DOCUMENTS_KEPT });
  const documentOf = (query: string): DocumentNode | undefined => {
    const known = validated.get(query);
    if (known) return known;
    try {
      return parse(query, parseOptions);
    } catch {
      return undefined;
    }
  };
  const upstream = new UpstreamClients(options.subgraphUrls, options.subgraphSecret);
  const shared = new SharedSubscriptions({
    planner,
    upstream,
    services: options.services,
    subgraphSecret: options.subgraphSecret,
    bufferSize: limits.bufferSize,
    logger,
    formatError,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const connections = new Map<WebSocket, ConnectionState>();
  // ws's own default (100 MiB) let a few unauthenticated connection_init messages take a gigabyte.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  let closing = false;
  let closed: Promise<void> | null = null;

  const onUpgrade = (request: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== '/graphql') return; // not ours: another upgrade handler may take it
    if (closing || wss.clients.size >= limits.maxConnections) {
      logger.warn({ connections: wss.clients.size, max: limits.maxConnections }, 'refusing a WebSocket: connection limit');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.httpServer.on('upgrade', onUpgrade);

  const armExpiry = (state: ConnectionState): void => {
    const expiresAt = state.identity?.expiresAt;
    if (expiresAt === null || expiresAt === undefined) return;
    const delay = expiresAt * 1000 - clock.now().getTime();
    state.expiryTimer = timers.setTimeout(() => {
      // Re-check against the clock: a long expiry is armed in steps, and tests move the clock.
      if (expiresAt * 1000 > clock.now().getTime()) {
        armExpiry(state);
        return;
      }
      state.expired = true;
      for (const subscription of state.subscriptions.values()) subscription.terminate(tokenExpiredError());
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)));
  };

  const disposable = useServer(
    {
      connectionInitWaitTimeout: limits.connectionInitWaitTimeoutMs,
      onConnect: (ctx) => {
        let identity: Identity;
        try {
          const token = tokenFrom(ctx.connectionParams);
          if (token === null) return false;
          identity = verifyClientToken(token, options.jwtSecret, Math.floor(clock.now().getTime() / 1000), options.jwtMaxLifetimeSeconds);
        } catch (error) {
          if (isDomainError(error)) return false;
          throw error;
        }
        const state: ConnectionState = {
          identity,
          correlationId: randomUUID(),
          accepted: 0,
          subscriptions: new Map(),
          expiryTimer: null,
          expired: false,
        };
        connections.set(ctx.extra.socket, state);
        armExpiry(state);
        return true;
      },
      onClose: (ctx) => {
        const state = connections.get(ctx.extra.socket);
        if (state?.expiryTimer) timers.clearTimeout(state.expiryTimer);
        connections.delete(ctx.extra.socket);
      },
      onSubscribe: (ctx, id, payload): ExecutionArgs | readonly GraphQLError[] => {
        const state = connections.get(ctx.extra.socket);
        if (!state) return [new GraphQLError('The connection is not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
        if (state.expired) return [tokenExpiredError()];
        if (state.accepted >= limits.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `Too many subscriptions on this connection (at most ${limits.maxSubscriptionsPerConnection}): complete one first or open another connection.`,
              { extensions: { code: TOO_MANY_SUBSCRIPTIONS, max: limits.maxSubscriptionsPerConnection } },
            ),
          ];
        }
        let document = validated.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query, parseOptions);
          } catch (error) {
            return [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')];
          }
          const validationErrors = validate(planner.schema, document, validationRules);
          if (validationErrors.length > 0) return validationErrors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
          validated.set(payload.query, document);
        }
        const operation = getOperationAST(document, payload.operationName ?? undefined);
        if (!operation) return [new GraphQLError('Unable to identify the operation: pass operationName.', { extensions: { code: 'BAD_REQUEST' } })];
        if (operation.operation !== 'subscription') {
          return [
            new GraphQLError('Only subscriptions run over WebSocket: send queries and mutations as HTTP POST to /graphql.', {
              extensions: { code: 'BAD_REQUEST' },
            }),
          ];
        }
        const coerced = getVariableValues(planner.schema, operation.variableDefinitions ?? [], payload.variables ?? {});
        if (coerced.errors) return coerced.errors.map((e) => withCode(e, 'BAD_USER_INPUT'));
        const rawCursor = payload.extensions?.[CURSOR_EXTENSION];
        let cursor: string | null;
        try {
          const position = parseCursor(rawCursor);
          cursor = position === null ? null : String(position);
        } catch (error) {
          return [new GraphQLError((error as Error).message, { extensions: { code: 'BAD_USER_INPUT', field: 'extensions.cursor' } })];
        }
        const trace = clientTrace(payload.extensions);
        const contextValue: SubscribeContext = {
          ...(trace ? { trace } : {}),
          identity: state.identity,
          correlationId: `${state.correlationId}:${id}`,
          subscriptionId: id,
          socket: ctx.extra.socket,
          connection: state,
          cursor,
          release: countAccepted(state),
        };
        return {
          schema: planner.schema,
          document,
          ...(payload.operationName ? { operationName: payload.operationName } : {}),
          variableValues: coerced.coerced,
          contextValue,
        };
      },
      subscribe: (args) => {
        const ctx = args.contextValue as SubscribeContext;
        let subscription: FederatedSubscription;
        try {
          subscription = shared.subscribe({
            id: ctx.subscriptionId,
            document: args.document,
            operationName: args.operationName ?? undefined,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            context: { identity: ctx.identity, correlationId: ctx.correlationId, ...(ctx.trace ? { trace: ctx.trace } : {}) },
            cursor: ctx.cursor,
            socket: { send: (message, written) => ctx.socket.send(message, written) },
          });
        } catch (error) {
          logger.warn({ err: error }, 'subscription could not be planned');
          ctx.release();
          // Sent as a result (graphql-ws does not pass it through onError): coded and without internals here.
          const coded = error instanceof GraphQLError && typeof error.extensions.code === 'string';
          return { errors: [coded ? error : new GraphQLError(INTERNAL_ERROR_MESSAGE, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
        }
        const { connection, subscriptionId } = ctx;
        connection.subscriptions.set(subscriptionId, subscription);
        // Every way a subscription ends comes through here: its last event, an error, the client's
        // complete (graphql-ws calls return(), also when the complete came before subscribe finished).
        const forget = () => {
          ctx.release();
          if (connection.subscriptions.get(subscriptionId) === subscription) connection.subscriptions.delete(subscriptionId);
        };
        const tracked: AsyncIterableIterator<import('graphql').ExecutionResult> = {
          next: async () => {
            try {
              const result = await subscription.next();
              if (result.done) forget();
              return result;
            } catch (error) {
              forget();
              throw error;
            }
          },
          return: async () => {
            forget();
            return subscription.return ? subscription.return() : { value: undefined, done: true };
          },
          [Symbol.asyncIterator]: () => tracked,
        };
        return tracked;
      },
      onError: (_ctx, _id, payload, errors) => {
        // The same shape as over HTTP (client-errors.ts): locations into the client's document.
        const client = clientOperation(documentOf(payload.query), payload.operationName);
        return errors.flatMap((error) =>
          codedErrors(error).map((coded) => toClientError(formatError(coded, error), client, error.originalError instanceof UpstreamErrors)),
        );
      },
    },
    wss,
    limits.keepAliveMs,
  );

  return {
    get connectionCount() {
      return wss.clients.size;
    },
    get subscriptionCount() {
      let n = 0;
      for (const state of connections.values()) n += state.subscriptions.size;
      return n;
    },
    get upstreamSubscriptionCount() {
      return shared.upstreamCount;
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        options.httpServer.off('upgrade', onUpgrade);
        // Clients reconnect after 1012 (to another instance) and resume with their last cursor.
        for (const client of wss.clients) client.close(SERVICE_RESTART, 'Gateway restarting: reconnect and resume');
        await disposable.dispose();
        await upstream.close();
      })();
      return closed;
    },
  };
}
