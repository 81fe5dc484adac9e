// graphql-ws on a subgraph's own /graphql, for the gateway only: the connection_init payload must
// carry a valid gateway signature (else 4403), and each subscribe message carries the caller's
// signed identity (`extensions.gatewayIdentity`), the request's correlation id
// (`extensions.correlationId`) and an optional resume cursor (`extensions.cursor`).
import { attr, contextFrom, SpanKind, startSpan, trace, traceHeaders, type TraceCarrier } from '../../platform/tracing';
import type http from 'node:http';
import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { correlationIdFrom, verifyForwardedIdentity, type Identity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { quietProtocolErrors } from '../../platform/ws-protocol-errors';
import type { EventBus } from '../../messaging/bus/event-bus';
import type { EventType } from '../../messaging/events/catalog';
import type { EventStore } from '../../messaging/store/event-store';
import { StreamOverflowError } from '../../messaging/live/entity-event-stream';
import { LiveEventFeed } from '../../messaging/live/live-event-feed';
import { formatCursor, SUBSCRIPTION_OVERFLOW, SubscriptionCloseCode, SubscriptionExtension } from '../../platform/subscription-protocol';
import { OnDemandLiveFeed, splitLiveSource } from '../../messaging/live/on-demand-live-feed';
import type { ClientErrorOptions } from '../../platform/client-errors';
import { formatErrorWith } from './format-error';
import type { SubscriptionContext, SubscriptionSources } from './subscription-payload';

/** As the HTTP body limit (1 MB); ws's own default is 100 MiB. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

export interface SubgraphSubscriptionOptions {
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  readonly subgraphSecret: string;
  readonly sources: SubscriptionSources | null;
  readonly logger: Logger;
  readonly clientErrors?: ClientErrorOptions;
  readonly connectionInitWaitTimeoutMs?: number;
  readonly keepAliveMs?: number;
  /** Largest message taken (1 MiB when absent); a bigger one closes the socket with 1009. */
  readonly maxPayloadBytes?: number;
  /** The subgraph's name, for span names (`subgraph` when absent). */
  readonly name?: string;
}

export interface SubgraphSubscriptionServer {
  close(): Promise<void>;
}

/** The identity the gateway's signature vouches for (null: anonymous); undefined when the signature is missing or bad. */
function verify(signature: unknown, secret: string): Identity | null | undefined {
  if (typeof signature !== 'string' || signature === '') return undefined;
  try {
    return verifyForwardedIdentity(signature, secret);
  } catch {
    return undefined;
  }
}

export function serveSubgraphSubscriptions(options: SubgraphSubscriptionOptions): SubgraphSubscriptionServer {
  const { logger } = options;
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES });
  const formatError = formatErrorWith(logger, options.clientErrors);
  const format = (error: GraphQLError) => {
    const original = error.originalError;
    // A stream that fell behind ends with the cursor to resume from (the gateway relays it).
    if (original instanceof StreamOverflowError) {
      return { message: original.message, extensions: { code: SUBSCRIPTION_OVERFLOW, cursor: formatCursor(original.resumeAfter) } };
    }
    return formatError(error.toJSON(), error);
  };
  const disposable = useServer<Record<string, unknown>>(
    {
      schema: options.schema,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3000,
      onConnect: (ctx) => verify(ctx.connectionParams?.[SubscriptionExtension.GatewayIdentity], options.subgraphSecret) !== undefined,
      onSubscribe: (_ctx, _id, payload) => {
        // Refuse before any parsing when the per-operation signature is missing or bad.
        if (verify(payload.extensions?.[SubscriptionExtension.GatewayIdentity], options.subgraphSecret) === undefined) {
          return [new GraphQLError('A subscription needs the gateway signature.', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        return undefined;
      },
      context: (_ctx, _id, payload): SubscriptionContext => {
        const identity = verify(payload.extensions?.[SubscriptionExtension.GatewayIdentity], options.subgraphSecret) ?? null;
        const correlationId = correlationIdFrom(payload.extensions?.[SubscriptionExtension.CorrelationId]);
        return {
          identity,
          correlationId,
          logger: logger.child({ correlationId }),
          subscription: { sources: options.sources, cursor: payload.extensions?.[SubscriptionExtension.Cursor], current: { position: null } },
        };
      },
      onNext: (_ctx, _id, payload, args, result: ExecutionResult) => {
        const current = (args.contextValue as SubscriptionContext | undefined)?.subscription?.current;
        const position = current?.position ?? null;
        const { errors, ...rest } = result;
        // While tracing, the event's trace goes on at the gateway: a span for this push, its traceparent in `extensions`.
        const trace = current?.trace ? subscriptionEventTrace(options.name ?? 'subgraph', payload.operationName ?? undefined, current.trace, errors?.length ?? 0) : null;
        const extensions = { ...rest.extensions, ...(position !== null ? { [SubscriptionExtension.Cursor]: formatCursor(position) } : {}), ...trace };
        return {
          ...rest,
          ...(errors ? { errors: errors.map(format) } : {}),
          ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
        };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );
  quietProtocolErrors(wss, logger);
  return {
    close: async () => {
      for (const client of wss.clients) client.close(SubscriptionCloseCode.GoingAway, 'Server shutting down');
      await disposable.dispose();
    },
  };
}

/** A (sent) span for one subscription event pushed to the gateway, in the event's trace; its trace headers. */
function subscriptionEventTrace(subgraph: string, operationName: string | undefined, eventTrace: TraceCarrier, errors: number): Record<string, string> {
  const parent = contextFrom(eventTrace);
  const span = startSpan(`${subgraph} subscription event${operationName ? ` ${operationName}` : ''}`, {
    kind: SpanKind.PRODUCER,
    parent,
    attributes: { [attr.transport]: 'graphql-ws', 'membership.service': subgraph, ...(operationName ? { 'graphql.operation.name': operationName } : {}), ...(errors > 0 ? { 'membership.graphql.errors': errors } : {}) },
  });
  if (!span) return {};
  const headers = traceHeaders(trace.setSpan(parent, span));
  span.end();
  return headers;
}

/** How a subgraph server feeds its subscriptions; absent: subscribing answers UNAVAILABLE. */
export interface SubgraphSubscriptionsConfig {
  readonly bus: EventBus;
  readonly store: EventStore;
  /** Event types this subgraph's subscriptions need (its live queue binds to them). */
  readonly eventTypes: readonly EventType[];
  /** Event types bound only while a subscription needs one outside `eventTypes` (a second live queue). */
  readonly onDemandEventTypes?: readonly EventType[];
  /** How long that second queue outlives its last subscription. Default ON_DEMAND_LINGER_MS. */
  readonly onDemandLingerMs?: number;
  /** Events held per subscription for a slow reader. Default 1000. */
  readonly bufferSize?: number;
  readonly connectionInitWaitTimeoutMs?: number;
  readonly keepAliveMs?: number;
  readonly maxPayloadBytes?: number;
}

/** Start the live feed (one exclusive queue for this server) and serve graphql-ws beside HTTP. */
export async function startSubgraphSubscriptions(options: {
  readonly name: string;
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  readonly subgraphSecret: string;
  readonly logger: Logger;
  readonly clientErrors: ClientErrorOptions;
  readonly config: SubgraphSubscriptionsConfig | undefined;
}): Promise<SubgraphSubscriptionServer> {
  const { config } = options;
  const feed =
    config && config.eventTypes.length > 0
      ? await LiveEventFeed.start(config.bus, {
          types: config.eventTypes,
          queuePrefix: `live.${options.name}`,
          logger: options.logger,
          headPosition: () => config.store.headPosition(),
        })
      : null;
  const onDemand =
    config && (config.onDemandEventTypes?.length ?? 0) > 0
      ? new OnDemandLiveFeed({
          bus: config.bus,
          types: config.onDemandEventTypes ?? [],
          queuePrefix: `live.${options.name}.on-demand`,
          logger: options.logger,
          headPosition: () => config.store.headPosition(),
          ...(config.onDemandLingerMs === undefined ? {} : { lingerMs: config.onDemandLingerMs }),
        })
      : null;
  const live = feed || onDemand ? splitLiveSource(feed, config?.eventTypes ?? [], onDemand) : null;
  const server = serveSubgraphSubscriptions({
    name: options.name,
    httpServer: options.httpServer,
    schema: options.schema,
    subgraphSecret: options.subgraphSecret,
    logger: options.logger,
    clientErrors: options.clientErrors,
    sources: live && config ? { live, store: config.store, bufferSize: config.bufferSize ?? 1000 } : null,
    ...(config?.connectionInitWaitTimeoutMs ? { connectionInitWaitTimeoutMs: config.connectionInitWaitTimeoutMs } : {}),
    ...(config?.keepAliveMs ? { keepAliveMs: config.keepAliveMs } : {}),
    ...(config?.maxPayloadBytes ? { maxPayloadBytes: config.maxPayloadBytes } : {}),
  });
  return {
    close: async () => {
      await server.close();
      await feed?.close();
      await onDemand?.close();
    },
  };
}
