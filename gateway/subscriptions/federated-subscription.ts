// One client subscription, executed federated: the plan's primary fetch is opened as a graphql-ws
// subscription on its owning subgraph; for each event, the rest of the plan runs with the event
// standing in for that subgraph's answer, so fields owned by other subgraphs are fetched before
// the result is sent. Events wait in a bounded queue; a slow client overflows it and is told
// where to resume. Every result carries the event's cursor in `extensions.cursor`.
import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { FormattedExecutionResult } from 'graphql-ws';
import { signForwardedIdentity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { BoundedQueue, QueueOverflowError } from '../../messaging/live/bounded-queue';
import type { GatewayContext } from '../context';
import { EventDataSource } from './event-data-source';
import { interruptedError, overflowError, UpstreamErrors } from './subscription-errors';
import type { SubscriptionPlanner } from './subscription-planner';
import { CURSOR_EXTENSION, GATEWAY_IDENTITY_EXTENSION, type UpstreamClients } from './upstream-clients';

type UpstreamResult = FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>;

/** Hooks for metrics and for tests that wait on outcomes instead of sleeping. */
export interface SubscriptionObserver {
  /** An event arrived from a subgraph for a subscription (before it is queued). */
  received?(subscriptionId: string): void;
  /** A subscription's buffer overflowed; the client will be told to resume from `cursor`. */
  overflowed?(subscriptionId: string, cursor: string | null): void;
}

export interface FederatedSubscriptionDeps {
  readonly planner: SubscriptionPlanner;
  readonly upstream: UpstreamClients;
  /** The real data sources, by subgraph name, for the fields other subgraphs own. */
  readonly services: ServiceMap;
  readonly subgraphSecret: string;
  /** Events held for a slow client before the subscription is ended with a resume cursor. */
  readonly bufferSize: number;
  readonly logger: Logger;
  readonly observer?: SubscriptionObserver;
}

export interface FederatedSubscriptionRequest {
  readonly id: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** Coerced variables of the operation. */
  readonly variables: Record<string, unknown>;
  readonly context: GatewayContext;
  /** The client's resume cursor (`extensions.cursor` of its subscribe message). */
  readonly cursor: string | null;
}

export interface FederatedSubscription extends AsyncIterableIterator<ExecutionResult> {
  /** End the subscription now with an error (token expiry, shutdown); queued events are dropped. */
  terminate(error: GraphQLError): void;
}

function isUpstreamFailure(result: UpstreamResult): boolean {
  return (result.errors?.length ?? 0) > 0 && (result.data === null || result.data === undefined);
}

/** The subgraph connection dropped; turned into a resume error once the delivered cursor is known. */
class UpstreamInterrupted extends Error {}

function upstreamErrorOf(error: unknown): Error {
  if (Array.isArray(error)) return new UpstreamErrors(error as GraphQLFormattedError[]);
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'number' ? `the subgraph connection closed with ${code}` : ((error as Error)?.message ?? 'unknown');
  return new UpstreamInterrupted(reason);
}

export function startFederatedSubscription(deps: FederatedSubscriptionDeps, request: FederatedSubscriptionRequest): FederatedSubscription {
  const plan = deps.planner.plan(request.document, request.operationName);
  const { primary, rest } = plan;
  const node = rest ? { kind: 'Sequence' as const, nodes: [primary, rest] } : primary;
  const queryPlan: QueryPlan = { kind: 'QueryPlan', node };
  const variables = Object.fromEntries(
    (primary.variableUsages ?? []).filter((name) => name in request.variables).map((name) => [name, request.variables[name]]),
  );
  const query = print(request.document);
  const logger = deps.logger.child({ subscriptionId: request.id, correlationId: request.context.correlationId });

  /** Cursor of the last event handed to the client: where a resubscribe picks up. */
  let lastCursor: string | null = request.cursor;
  let unsubscribe: () => void = () => undefined;
  let overflowReported = false;
  const queue = new BoundedQueue<UpstreamResult>(deps.bufferSize, () => unsubscribe());

  unsubscribe = deps.upstream.subscribe(
    primary.serviceName,
    {
      query: primary.operation,
      ...(primary.operationName ? { operationName: primary.operationName } : {}),
      variables,
      extensions: {
        [GATEWAY_IDENTITY_EXTENSION]: signForwardedIdentity(
          { identity: request.context.identity, correlationId: request.context.correlationId },
          deps.subgraphSecret,
        ),
        ...(request.cursor !== null ? { [CURSOR_EXTENSION]: request.cursor } : {}),
      },
    },
    {
      next: (result) => {
        deps.observer?.received?.(request.id);
        if (!queue.push(result) && !overflowReported) {
          overflowReported = true;
          deps.observer?.overflowed?.(request.id, lastCursor);
        }
      },
      // Events already queued are still delivered; the error comes after them.
      error: (error) => queue.end(upstreamErrorOf(error)),
      complete: () => queue.end(),
    },
  );

  const requestContext = {
    request: { query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) },
    context: request.context,
    logger,
    metrics: {},
    cache: undefined,
  } as unknown as GatewayGraphQLRequestContext<GatewayContext>;

  const toClientResult = async (upstream: UpstreamResult): Promise<ExecutionResult> => {
    const cursorValue = upstream.extensions?.[CURSOR_EXTENSION];
    const cursor = typeof cursorValue === 'string' ? cursorValue : null;
    const services: ServiceMap = { ...deps.services, [primary.serviceName]: new EventDataSource(upstream as never) };
    const response = await executeQueryPlan(
      queryPlan,
      services,
      requestContext,
      plan.operationContext,
      deps.planner.supergraphSchema,
      deps.planner.apiSchema,
    );
    if (cursor !== null) lastCursor = cursor;
    return {
      data: (response.data ?? null) as ExecutionResult['data'],
      ...(response.errors && response.errors.length > 0 ? { errors: response.errors as ExecutionResult['errors'] } : {}),
      ...(cursor !== null ? { extensions: { [CURSOR_EXTENSION]: cursor } } : {}),
    };
  };

  const subscription: FederatedSubscription = {
    next: async () => {
      let item: IteratorResult<UpstreamResult>;
      try {
        item = await queue.next();
      } catch (error) {
        if (error instanceof QueueOverflowError) throw overflowError(lastCursor);
        // A dropped subgraph connection: say where to resume, now that we know what was delivered.
        if (error instanceof UpstreamInterrupted) throw interruptedError(lastCursor, error.message);
        throw error;
      }
      if (item.done) return { value: undefined, done: true };
      if (isUpstreamFailure(item.value)) {
        queue.return();
        throw new UpstreamErrors(item.value.errors ?? []);
      }
      return { value: await toClientResult(item.value), done: false };
    },
    return: async () => {
      await queue.return();
      return { value: undefined, done: true };
    },
    terminate: (error) => queue.fail(error),
    [Symbol.asyncIterator]: () => subscription,
  };
  return subscription;
}
