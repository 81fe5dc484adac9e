// One upstream subscription, executed federated: the plan's primary fetch is opened as a graphql-ws
// subscription on its owning subgraph; for each event, the rest of the plan runs with the event
// standing in for that subgraph's answer, so fields owned by other subgraphs are fetched before
// the result is handed on. It runs once per event however many clients share it
// (shared-subscriptions.ts); writing to each client is client-subscription.ts.
//
// Events wait for their execution in a bounded backlog, one execution at a time and in order (as
// many requests to the other subgraphs in flight as before sharing: one per upstream). A backlog
// that overflows (the other subgraphs are slower than the events) ends the upstream like a slow
// client, with a resume cursor for every client.
import { attr, contextFrom, errorCodeOf, recordError, SpanKind, startSpan, trace, traceHeaders, withSpan, type Link } from '../../platform/tracing';
import { createHash } from 'node:crypto';
import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { clientResultErrors, type ClientOperation } from '../client-errors';
import type { FormattedExecutionResult } from 'graphql-ws';
import { signForwardedIdentity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { BoundedQueue } from '../../messaging/live/bounded-queue';
import type { GatewayContext } from '../context';
import { EventDataSource } from './event-data-source';
import { UpstreamErrors } from './subscription-errors';
import type { SubscriptionPlan, SubscriptionPlanner } from './subscription-planner';
import type { UpstreamClients } from './upstream-clients';
import { SubscriptionExtension } from '../../platform/subscription-protocol';

type UpstreamResult = FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>;

export interface FederatedUpstreamDeps {
  readonly planner: SubscriptionPlanner;
  readonly upstream: UpstreamClients;
  /** The real data sources, by subgraph name, for the fields other subgraphs own. */
  readonly services: ServiceMap;
  readonly subgraphSecret: string;
  /** Events held while earlier ones are executed before the upstream is ended with a resume cursor. */
  readonly bufferSize: number;
  /** How an event's errors (a failed fetch from another subgraph) are shown to clients; as they are when absent. */
  readonly formatError?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export interface FederatedUpstreamRequest {
  readonly plan: SubscriptionPlan;
  /** The client document, printed (what executeQueryPlan's request context carries). */
  readonly query: string;
  readonly operationName: string | undefined;
  /** Coerced variables of the operation. */
  readonly variables: Record<string, unknown>;
  /** Whose identity and correlation id the subscribe and the per-event fetches are signed with. */
  readonly context: GatewayContext;
  /** A resume cursor: the subgraph first replays what followed it from the store. */
  readonly cursor: string | null;
  readonly logger: Logger;
}

/** One finished event, as every client of the upstream receives it. */
export interface FederatedResult {
  readonly result: ExecutionResult;
  /** The event's position (also in `result.extensions.cursor`). */
  readonly cursor: string | null;
}

export interface FederatedSink {
  /** A finished event, in the subgraph's order. */
  next(event: FederatedResult): void;
  /**
   * No more events: the subgraph completed (no error) or failed (UpstreamErrors, UpstreamInterrupted,
   * QueueOverflowError, or an execution error). Called once, after every event before it, and
   * never after `close()`.
   */
  end(error?: unknown): void;
  /** The upstream subscription is closed (for whatever reason); runs once, before any `end`. */
  closed(): void;
}

export interface FederatedUpstream {
  /** Unsubscribe from the subgraph and drop what waits; the sink hears nothing more. */
  close(): void;
}

/** The subgraph connection dropped; each client turns it into a resume error with its own cursor. */
export class UpstreamInterrupted extends Error {}

function isUpstreamFailure(result: UpstreamResult): boolean {
  return (result.errors?.length ?? 0) > 0 && (result.data === null || result.data === undefined);
}

function upstreamErrorOf(error: unknown): Error {
  if (Array.isArray(error)) return new UpstreamErrors(error as GraphQLFormattedError[]);
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'number' ? `the subgraph connection closed with ${code}` : ((error as Error)?.message ?? 'unknown');
  return new UpstreamInterrupted(reason);
}

/** Short, stable name of a share key for logs (the key itself holds variables and identities). */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function openFederatedUpstream(deps: FederatedUpstreamDeps, request: FederatedUpstreamRequest, sink: FederatedSink): FederatedUpstream {
  const upstream = new FederatedUpstreamRun(deps, request, sink);
  upstream.subscribe();
  void upstream.pump();
  return upstream;
}

/** The subgraph subscription of one FederatedUpstream, and the executions of its events in order. */
class FederatedUpstreamRun implements FederatedUpstream {
  private readonly queryPlan: QueryPlan;
  private readonly backlog: BoundedQueue<UpstreamResult>;
  private readonly operationName: string | undefined;
  private readonly requestContext: GatewayGraphQLRequestContext<GatewayContext>;
  /** The client operation, for errors in the shape HTTP answers have (client-errors.ts). */
  private readonly client: ClientOperation;
  private unsubscribe: () => void = () => undefined;
  private stopped = false;
  /** While tracing, each event's span links to the subscribe's. */
  private subscribeLink: Link[] = [];

  constructor(
    private readonly deps: FederatedUpstreamDeps,
    private readonly request: FederatedUpstreamRequest,
    private readonly sink: FederatedSink,
  ) {
    const { primary, rest, operationContext } = request.plan;
    const node = rest ? { kind: 'Sequence' as const, nodes: [primary, rest] } : primary;
    this.queryPlan = { kind: 'QueryPlan', node };
    this.backlog = new BoundedQueue<UpstreamResult>(deps.bufferSize, () => {
      this.unsubscribe();
      sink.closed();
    });
    this.operationName = request.operationName ?? operationContext.operation.name?.value;
    this.requestContext = {
      request: { query: request.query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) },
      context: request.context,
      logger: request.logger,
      metrics: {},
      cache: undefined,
    } as unknown as GatewayGraphQLRequestContext<GatewayContext>;
    this.client = { operation: operationContext.operation, fragments: operationContext.fragments };
  }

  /** Unsubscribe from the subgraph and drop what waits; the sink hears nothing more. */
  close(): void {
    this.stopped = true;
    this.backlog.return();
  }

  /** Open the plan's primary fetch as a subscription on its subgraph, its events into the backlog. */
  subscribe(): void {
    const { deps, request } = this;
    const { primary } = request.plan;
    const variables = Object.fromEntries(
      (primary.variableUsages ?? []).filter((name) => name in request.variables).map((name) => [name, request.variables[name]]),
    );
    this.unsubscribe = deps.upstream.subscribe(
      primary.serviceName,
      {
        query: primary.operation,
        ...(primary.operationName ? { operationName: primary.operationName } : {}),
        variables,
        extensions: {
          ...this.traceSubscribe(),
          [SubscriptionExtension.GatewayIdentity]: signForwardedIdentity(request.context.identity, deps.subgraphSecret),
          [SubscriptionExtension.CorrelationId]: request.context.correlationId,
          ...(request.cursor !== null ? { [SubscriptionExtension.Cursor]: request.cursor } : {}),
        },
      },
      {
        next: (result) => this.backlog.push(result),
        // Events already waiting are still delivered; the error comes after them.
        error: (error) => this.backlog.end(upstreamErrorOf(error)),
        complete: () => this.backlog.end(),
      },
    );
  }

  /**
   * While tracing: the subscribe is a span of the client's trace (its traceparent, else a new one),
   * and the subgraph sees its traceparent (the headers returned); each event then continues the
   * trace of the event itself.
   */
  private traceSubscribe(): Record<string, string> {
    const { request, operationName } = this;
    const subscribeSpan = startSpan(`gateway subscribe${operationName ? ` ${operationName}` : ''}`, {
      kind: SpanKind.CLIENT,
      parent: contextFrom(request.context.trace),
      attributes: { [attr.transport]: 'graphql-ws', [attr.correlationId]: request.context.correlationId, 'graphql.operation.type': 'subscription', ...(operationName ? { 'graphql.operation.name': operationName } : {}), 'membership.service': request.plan.primary.serviceName },
    });
    const subscribeTrace = subscribeSpan ? traceHeaders(trace.setSpan(contextFrom(request.context.trace), subscribeSpan)) : {};
    subscribeSpan?.end();
    this.subscribeLink = subscribeSpan ? [{ context: subscribeSpan.spanContext() }] : [];
    return subscribeTrace;
  }

  /** Take the backlog's events one at a time, in order, until it ends or the upstream is closed. */
  async pump(): Promise<void> {
    for (;;) {
      let item: IteratorResult<UpstreamResult>;
      try {
        item = await this.backlog.next();
      } catch (error) {
        this.finish(error);
        return;
      }
      if (this.stopped) return;
      if (item.done) {
        this.finish();
        return;
      }
      if (isUpstreamFailure(item.value)) {
        this.finish(new UpstreamErrors(item.value.errors ?? []));
        return;
      }
      if (!(await this.deliver(item.value))) return;
    }
  }

  /**
   * Execute one event and hand it on; false when the upstream ended meanwhile. While tracing: a span
   * per event, in the event's trace (the subgraph's push), linked to the subscribe; the fetches to
   * other subgraphs and the sending to clients happen inside it.
   */
  private async deliver(upstream: UpstreamResult): Promise<boolean> {
    const { request, operationName } = this;
    const span = startSpan(`gateway subscription event${operationName ? ` ${operationName}` : ''}`, {
      kind: SpanKind.CONSUMER,
      parent: contextFrom(upstream.extensions),
      links: this.subscribeLink,
      attributes: { [attr.transport]: 'graphql-ws', [attr.correlationId]: request.context.correlationId, ...(operationName ? { 'graphql.operation.name': operationName } : {}) },
    });
    let event: FederatedResult;
    try {
      event = await withSpan(span, () => this.execute(upstream));
    } catch (error) {
      if (span) recordError(span, error);
      span?.end();
      request.logger.warn({ err: error }, 'a subscription event could not be executed');
      this.finish(error);
      return false;
    }
    if (this.stopped) {
      span?.end();
      return false;
    }
    withSpan(span, () => this.sink.next(event));
    if (span && event.result.errors?.length) span.setAttribute(attr.errorCode, [...new Set(event.result.errors.map((e) => errorCodeOf(e) ?? 'INTERNAL_SERVER_ERROR'))].join(','));
    span?.end();
    return true;
  }

  /** The rest of the plan, with the event standing in for its subgraph's answer. */
  private async execute(upstream: UpstreamResult): Promise<FederatedResult> {
    const { deps } = this;
    const { primary, operationContext } = this.request.plan;
    const cursorValue = upstream.extensions?.[SubscriptionExtension.Cursor];
    const cursor = typeof cursorValue === 'string' ? cursorValue : null;
    const services: ServiceMap = { ...deps.services, [primary.serviceName]: new EventDataSource(upstream as never) };
    const response = await executeQueryPlan(this.queryPlan, services, this.requestContext, operationContext, deps.planner.supergraphSchema, deps.planner.apiSchema);
    const { formatError } = deps;
    const formatted = (response.errors ?? []).map((e) => {
      const json = e instanceof GraphQLError ? e.toJSON() : e;
      return formatError ? formatError(json, e) : json;
    });
    const { errors } = clientResultErrors({ errors: formatted, extensions: response.extensions as Record<string, unknown> | undefined }, this.client);
    return {
      cursor,
      result: {
        data: (response.data ?? null) as ExecutionResult['data'],
        ...(errors ? { errors: errors as unknown as ExecutionResult['errors'] } : {}),
        ...(cursor !== null ? { extensions: { [SubscriptionExtension.Cursor]: cursor } } : {}),
      },
    };
  }

  private finish(error?: unknown): void {
    this.backlog.return();
    if (!this.stopped) this.sink.end(error);
  }
}
