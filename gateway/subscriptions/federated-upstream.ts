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
import { attr, contextFrom, errorCodeOf, recordError, SpanKind, startSpan, trace, traceHeaders, withSpan } from '../../platform/tracing';
import { createHash } from 'node:crypto';
import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { clientResultErrors } from '../client-errors';
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
  const { primary, rest, operationContext } = request.plan;
  const node = rest ? { kind: 'Sequence' as const, nodes: [primary, rest] } : primary;
  const queryPlan: QueryPlan = { kind: 'QueryPlan', node };
  const variables = Object.fromEntries(
    (primary.variableUsages ?? []).filter((name) => name in request.variables).map((name) => [name, request.variables[name]]),
  );

  let unsubscribe: () => void = () => undefined;
  let stopped = false;
  const backlog = new BoundedQueue<UpstreamResult>(deps.bufferSize, () => {
    unsubscribe();
    sink.closed();
  });

  // While tracing: the subscribe is a span of the client's trace (its traceparent, else a new one),
  // and the subgraph sees its traceparent; each event then continues the trace of the event itself.
  const operationName = request.operationName ?? operationContext.operation.name?.value;
  const subscribeSpan = startSpan(`gateway subscribe${operationName ? ` ${operationName}` : ''}`, {
    kind: SpanKind.CLIENT,
    parent: contextFrom(request.context.trace),
    attributes: { [attr.transport]: 'graphql-ws', [attr.correlationId]: request.context.correlationId, 'graphql.operation.type': 'subscription', ...(operationName ? { 'graphql.operation.name': operationName } : {}), 'membership.service': primary.serviceName },
  });
  const subscribeTrace = subscribeSpan ? traceHeaders(trace.setSpan(contextFrom(request.context.trace), subscribeSpan)) : {};
  subscribeSpan?.end();
  const subscribeLink = subscribeSpan ? [{ context: subscribeSpan.spanContext() }] : [];

  unsubscribe = deps.upstream.subscribe(
    primary.serviceName,
    {
      query: primary.operation,
      ...(primary.operationName ? { operationName: primary.operationName } : {}),
      variables,
      extensions: {
        ...subscribeTrace,
        [SubscriptionExtension.GatewayIdentity]: signForwardedIdentity(request.context.identity, deps.subgraphSecret),
        [SubscriptionExtension.CorrelationId]: request.context.correlationId,
        ...(request.cursor !== null ? { [SubscriptionExtension.Cursor]: request.cursor } : {}),
      },
    },
    {
      next: (result) => backlog.push(result),
      // Events already waiting are still delivered; the error comes after them.
      error: (error) => backlog.end(upstreamErrorOf(error)),
      complete: () => backlog.end(),
    },
  );

  const requestContext = {
    request: { query: request.query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) },
    context: request.context,
    logger: request.logger,
    metrics: {},
    cache: undefined,
  } as unknown as GatewayGraphQLRequestContext<GatewayContext>;

  // An event's errors reach clients in the shape HTTP answers have (client-errors.ts).
  const client = { operation: operationContext.operation, fragments: operationContext.fragments };

  const execute = async (upstream: UpstreamResult): Promise<FederatedResult> => {
    const cursorValue = upstream.extensions?.[SubscriptionExtension.Cursor];
    const cursor = typeof cursorValue === 'string' ? cursorValue : null;
    const services: ServiceMap = { ...deps.services, [primary.serviceName]: new EventDataSource(upstream as never) };
    const response = await executeQueryPlan(queryPlan, services, requestContext, operationContext, deps.planner.supergraphSchema, deps.planner.apiSchema);
    const { formatError } = deps;
    const formatted = (response.errors ?? []).map((e) => {
      const json = e instanceof GraphQLError ? e.toJSON() : e;
      return formatError ? formatError(json, e) : json;
    });
    const { errors } = clientResultErrors({ errors: formatted, extensions: response.extensions as Record<string, unknown> | undefined }, client);
    return {
      cursor,
      result: {
        data: (response.data ?? null) as ExecutionResult['data'],
        ...(errors ? { errors: errors as unknown as ExecutionResult['errors'] } : {}),
        ...(cursor !== null ? { extensions: { [SubscriptionExtension.Cursor]: cursor } } : {}),
      },
    };
  };

  const finish = (error?: unknown): void => {
    backlog.return();
    if (!stopped) sink.end(error);
  };

  const pump = async (): Promise<void> => {
    for (;;) {
      let item: IteratorResult<UpstreamResult>;
      try {
        item = await backlog.next();
      } catch (error) {
        finish(error);
        return;
      }
      if (stopped) return;
      if (item.done) {
        finish();
        return;
      }
      if (isUpstreamFailure(item.value)) {
        finish(new UpstreamErrors(item.value.errors ?? []));
        return;
      }
      const upstream = item.value;
      // While tracing: a span per event, in the event's trace (the subgraph's push), linked to the
      // subscribe; the fetches to other subgraphs and the sending to clients happen inside it.
      const span = startSpan(`gateway subscription event${operationName ? ` ${operationName}` : ''}`, {
        kind: SpanKind.CONSUMER,
        parent: contextFrom(upstream.extensions),
        links: subscribeLink,
        attributes: { [attr.transport]: 'graphql-ws', [attr.correlationId]: request.context.correlationId, ...(operationName ? { 'graphql.operation.name': operationName } : {}) },
      });
      let event: FederatedResult;
      try {
        event = await withSpan(span, () => execute(upstream));
      } catch (error) {
        if (span) recordError(span, error);
        span?.end();
        request.logger.warn({ err: error }, 'a subscription event could not be executed');
        finish(error);
        return;
      }
      if (stopped) {
        span?.end();
        return;
      }
      withSpan(span, () => sink.next(event));
      if (span && event.result.errors?.length) span.setAttribute(attr.errorCode, [...new Set(event.result.errors.map((e) => errorCodeOf(e) ?? 'INTERNAL_SERVER_ERROR'))].join(','));
      span?.end();
    }
  };
  void pump();

  return {
    close: () => {
      stopped = true;
      backlog.return();
    },
  };
}
