// The gateway's subscription engine, with no transport in it: authenticates a client's token,
// validates each subscribe against the supergraph's API schema and the operation limits, runs it
// federated (sharing one upstream subscription among identical client subscriptions,
// shared-subscriptions.ts), bounds subscriptions per session and events per subscription, ends a
// session's subscriptions when its token expires, and shapes errors as over HTTP.
//
// A session is what a transport calls a client: a graphql-ws connection, a graphql-sse stream
// (one per operation in the distinct connections mode, one per reserved stream in the single
// connection mode), or a multipart response. The transports (subscription-server.ts for
// graphql-ws, sse-transport.ts, multipart-transport.ts) only frame events and read requests, as
// graphql-ws keeps its server core apart from its `ws` adapter.
import { randomUUID } from 'node:crypto';
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { ServiceMap } from '@apollo/gateway';
import { bearerToken, verifyClientToken, type Identity } from '../../platform/auth';
import { backgroundTimers, systemClock, type Clock, type Timers } from '../../platform/clock';
import { isDomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { TRACEPARENT, TRACESTATE, tracingEnabled } from '../../platform/tracing';
import { TOO_MANY_SUBSCRIPTIONS } from '../../platform/subscription-protocol';
import type { ClientErrorOptions } from '../../platform/client-errors';
import { clientOperation, toClientError } from '../client-errors';
import { gatewayErrorFormatter, INTERNAL_ERROR_MESSAGE } from '../format-error';
import { defaultQueryLimits, type QueryLimits } from '../query-limits';
import type { FederatedSubscription, SubscriberSocket } from './client-subscription';
import { UpstreamInterrupted } from './federated-upstream';
import { SharedSubscriptions, type SubscriptionObserver } from './shared-subscriptions';
import { tokenExpiredError, UpstreamErrors } from './subscription-errors';
import { SubscriptionPlanner } from './subscription-planner';
import { reportSubscriptionCounts, subscriptionOverflows, type TransportName } from './subscription-metrics';
import { UpstreamClients } from './upstream-clients';
import { SubscribeValidation, type SubscribePayload } from './subscribe-validation';

/** Longest delay a Node timer takes; longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Timers as a dependency, so tests fire a token's expiry instead of waiting for it. */
export type { Timers };
export const realTimers: Timers = backgroundTimers;

export interface SubscriptionLimits {
  /** Subscription connections one gateway accepts (WebSockets, SSE streams, multipart responses together). */
  readonly maxConnections: number;
  readonly maxSubscriptionsPerConnection: number;
  /** Events held per subscription for a slow client. */
  readonly bufferSize: number;
  /** Time a client has to send connection_init (4408 after). */
  readonly connectionInitWaitTimeoutMs: number;
  /** WebSocket ping interval that detects dead peers; also the heartbeat of SSE and multipart streams. */
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

export interface SubscriptionEngineOptions {
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

export interface SubscriptionSession {
  readonly identity: Identity;
  readonly correlationId: string;
  /** The transport's name, for logs and metrics. */
  readonly transport: TransportName;
  /**
   * Subscriptions accepted and not ended yet: counted in prepare(), before the transport awaits
   * anything, so subscribes sent back to back cannot all pass the limit before any has started.
   */
  accepted: number;
  readonly subscriptions: Map<string, FederatedSubscription>;
  expiryTimer: unknown;
  expired: boolean;
}

/**
 * The iterator a transport gets for a started subscription: yields nothing, settles when it ends;
 * `return` and `throw` end it from the client's side (graphql-sse calls them, as on an async generator).
 */
export interface SubscriptionIterator extends AsyncIterableIterator<ExecutionResult> {
  return(value?: unknown): Promise<IteratorResult<ExecutionResult>>;
  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>>;
}

/** A subscribe that passed every check, holding its place in its session's limit until it ends. */
export interface PreparedSubscription {
  readonly session: SubscriptionSession;
  readonly id: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
  readonly cursor: string | null;
  /** The client's W3C trace context (while tracing), which the subscription's spans continue. */
  readonly trace: Readonly<Record<string, string>> | null;
  /** Frees the subscription's place in its session's limit once it ends (or fails to start); idempotent. */
  readonly release: () => void;
}

/**
 * A client's W3C trace context while tracing: `traceparent` (and `tracestate`) from a subscribe
 * message's `extensions` (graphql-ws) or an HTTP request's headers (SSE, multipart); else null.
 */
export function clientTrace(source: Readonly<Record<string, unknown>> | null | undefined): Record<string, string> | null {
  if (!tracingEnabled() || !source || typeof source[TRACEPARENT] !== 'string') return null;
  const state = source[TRACESTATE];
  return { [TRACEPARENT]: source[TRACEPARENT], ...(typeof state === 'string' ? { [TRACESTATE]: state } : {}) };
}

/** An error coded (the gateway's formatter then makes it client-safe). */
function codedErrors(error: GraphQLError): GraphQLFormattedError[] {
  const original = error.originalError;
  if (original instanceof UpstreamErrors) return [...original.errors];
  const json = error.toJSON();
  const code = json.extensions?.code;
  if (typeof code === 'string') return [json];
  if (isDomainError(original)) return [{ ...json, extensions: { ...original.details, code: original.code } }];
  return [{ ...json, extensions: { ...json.extensions, code: 'INTERNAL_SERVER_ERROR' } }];
}

/** The token in an `Authorization: Bearer ...` value, or null (none, or malformed). */
export function tokenOfAuthorization(value: string | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  try {
    return bearerToken(value);
  } catch (error) {
    if (isDomainError(error)) return null;
    throw error;
  }
}

export class SubscriptionEngine {
  readonly limits: SubscriptionLimits;
  readonly planner: SubscriptionPlanner;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly formatError: ReturnType<typeof gatewayErrorFormatter>;
  private readonly validation: SubscribeValidation;
  private readonly upstream: UpstreamClients;
  private readonly shared: SharedSubscriptions;
  private readonly sessions = new Set<SubscriptionSession>();
  /** Each transport's count of open connections, summed against the one limit. */
  private readonly connectionCounters = new Map<TransportName, () => number>();
  private readonly stopReporting: () => void;

  constructor(private readonly options: SubscriptionEngineOptions) {
    this.limits = { ...defaultSubscriptionLimits, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger;
    this.formatError = gatewayErrorFormatter(this.logger, options.clientErrors ?? { hideSuggestions: false });
    this.planner = new SubscriptionPlanner(options.supergraphSdl);
    this.validation = new SubscribeValidation(this.planner.schema, options.queryLimits ?? defaultQueryLimits);
    this.upstream = new UpstreamClients(options.subgraphUrls, options.subgraphSecret);
    this.shared = new SharedSubscriptions({
      planner: this.planner,
      upstream: this.upstream,
      services: options.services,
      subgraphSecret: options.subgraphSecret,
      bufferSize: this.limits.bufferSize,
      logger: this.logger,
      formatError: this.formatError,
      observer: {
        ...options.observer,
        overflowed: (subscriptionId, cursor) => {
          subscriptionOverflows.inc();
          options.observer?.overflowed?.(subscriptionId, cursor);
        },
      },
    });
    this.stopReporting = reportSubscriptionCounts({
      connections: (transport) => this.connectionCounters.get(transport)?.() ?? 0,
      subscriptions: (transport) => {
        let n = 0;
        for (const session of this.sessions) if (session.transport === transport) n += session.subscriptions.size;
        return n;
      },
      upstreams: () => this.upstreamSubscriptionCount,
    });
  }

  /** The identity of a client token, or null when it is missing, invalid or expired. */
  identify(token: string | null): Identity | null {
    if (token === null) return null;
    try {
      return verifyClientToken(token, this.options.jwtSecret, Math.floor(this.clock.now().getTime() / 1000), this.options.jwtMaxLifetimeSeconds);
    } catch (error) {
      if (isDomainError(error)) return null;
      throw error;
    }
  }

  /** Count a transport's open connections against maxConnections (and in its metrics). */
  countConnections(transport: TransportName, count: () => number): void {
    this.connectionCounters.set(transport, count);
  }

  get connectionCount(): number {
    let n = 0;
    for (const count of this.connectionCounters.values()) n += count();
    return n;
  }

  /** No room for one more connection (the transport refuses it: 503, Retry-After). */
  get full(): boolean {
    return this.connectionCount >= this.limits.maxConnections;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const session of this.sessions) n += session.subscriptions.size;
    return n;
  }

  /** Subscriptions open on subgraphs: one per group of identical client subscriptions, one per resume. */
  get upstreamSubscriptionCount(): number {
    return this.shared.upstreamCount;
  }

  /** A client's session: its token's expiry ends its subscriptions. */
  openSession(identity: Identity, transport: TransportName): SubscriptionSession {
    const session: SubscriptionSession = {
      identity,
      correlationId: randomUUID(),
      transport,
      accepted: 0,
      subscriptions: new Map(),
      expiryTimer: null,
      expired: false,
    };
    this.sessions.add(session);
    this.armExpiry(session);
    return session;
  }

  closeSession(session: SubscriptionSession): void {
    if (session.expiryTimer) this.timers.clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    this.sessions.delete(session);
  }

  private armExpiry(session: SubscriptionSession): void {
    const expiresAt = session.identity.expiresAt;
    if (expiresAt === null || expiresAt === undefined) return;
    const delay = expiresAt * 1000 - this.clock.now().getTime();
    session.expiryTimer = this.timers.setTimeout(() => {
      // Re-check against the clock: a long expiry is armed in steps, and tests move the clock.
      if (expiresAt * 1000 > this.clock.now().getTime()) {
        this.armExpiry(session);
        return;
      }
      session.expired = true;
      for (const subscription of session.subscriptions.values()) subscription.terminate(tokenExpiredError());
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)));
  }

  /**
   * Check a subscribe: the session's token and limit, then the subscribe itself
   * (subscribe-validation.ts; `transportCursor` is the transport's own resume cursor, as SSE's Last-Event-ID).
   */
  prepare(
    session: SubscriptionSession,
    id: string,
    payload: SubscribePayload,
    transportCursor?: unknown,
    transportTrace?: Readonly<Record<string, unknown>>,
  ): PreparedSubscription | GraphQLError[] {
    if (session.expired) return [tokenExpiredError()];
    const max = this.limits.maxSubscriptionsPerConnection;
    if (session.accepted >= max) {
      return [
        new GraphQLError(`Too many subscriptions on this connection (at most ${max}): complete one first or open another connection.`, {
          extensions: { code: TOO_MANY_SUBSCRIPTIONS, max },
        }),
      ];
    }
    const valid = this.validation.validate(payload, transportCursor);
    if (Array.isArray(valid)) return valid;
    session.accepted += 1;
    let released = false;
    return {
      session,
      id,
      ...valid,
      trace: clientTrace(payload.extensions) ?? clientTrace(transportTrace),
      release: () => {
        if (released) return;
        released = true;
        session.accepted -= 1;
      },
    };
  }

  /**
   * Start a prepared subscription writing its events to `socket`. The iterator yields nothing: it
   * settles once the subscription ends (done, or rejected with the error to tell the client), after
   * every event was written; return() ends it from the client's side. A subscription that cannot be
   * planned answers its errors instead.
   */
  start(prepared: PreparedSubscription, socket: SubscriberSocket): SubscriptionIterator | { errors: GraphQLError[] } {
    const { session, id } = prepared;
    let subscription: FederatedSubscription;
    try {
      subscription = this.shared.subscribe({
        id,
        document: prepared.document,
        operationName: prepared.operationName,
        variables: prepared.variables,
        context: { identity: session.identity, correlationId: `${session.correlationId}:${id}`, ...(prepared.trace ? { trace: prepared.trace } : {}) },
        cursor: prepared.cursor,
        socket,
      });
    } catch (error) {
      this.logger.warn({ err: error, transport: session.transport }, 'subscription could not be planned');
      prepared.release();
      const coded = error instanceof GraphQLError && typeof error.extensions.code === 'string';
      return { errors: [coded ? error : new GraphQLError(INTERNAL_ERROR_MESSAGE, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
    }
    session.subscriptions.set(id, subscription);
    // Every way a subscription ends comes through here: its ending, an error, the client's
    // complete (return(), also when the complete came before the start finished).
    const forget = () => {
      prepared.release();
      if (session.subscriptions.get(id) === subscription) session.subscriptions.delete(id);
    };
    const tracked: SubscriptionIterator = {
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
        await subscription.return?.();
        return { value: undefined, done: true };
      },
      throw: async (error: unknown) => {
        forget();
        await subscription.return?.();
        throw error;
      },
      [Symbol.asyncIterator]: () => tracked,
    };
    return tracked;
  }

  /** Errors as the client sees them, over every transport as over HTTP: coded, client-safe, located in its document. */
  clientErrors(payload: SubscribePayload | null, errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    const client = clientOperation(payload ? this.validation.documentOf(payload.query) : undefined, payload?.operationName);
    return errors.flatMap((error) =>
      codedErrors(error).map((coded) => toClientError(this.formatError(coded, error), client, error.originalError instanceof UpstreamErrors)),
    );
  }

  /** A thrown ending as GraphQL errors (the iterator of start() rejects with GraphQLErrors; anything else is internal). */
  errorsOf(error: unknown): GraphQLError[] {
    if (error instanceof GraphQLError) return [error];
    // The subgraph's own refusal (FORBIDDEN, ...) or a coded error of ours: relayed as it is.
    if (error instanceof UpstreamErrors || isDomainError(error)) return [new GraphQLError(error.message, { originalError: error })];
    this.logger.warn({ err: error }, 'a subscription ended with an unexpected error');
    return [new GraphQLError(INTERNAL_ERROR_MESSAGE, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
  }

  /**
   * End the subscriptions of the given transport's sessions as interrupted (the client resumes from
   * the cursor it is told), for a shutdown.
   */
  interrupt(transport: TransportName, reason: string): void {
    for (const session of this.sessions) {
      if (session.transport !== transport) continue;
      for (const subscription of session.subscriptions.values()) subscription.terminate(new UpstreamInterrupted(reason));
    }
  }

  async close(): Promise<void> {
    this.stopReporting();
    await this.upstream.close();
  }
}
