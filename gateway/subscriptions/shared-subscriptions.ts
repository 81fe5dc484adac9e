// Client subscriptions whose results would be identical share one upstream subscription and one
// per-event federated execution (federated-upstream.ts); each finished result is serialized once
// and written to every member's WebSocket (client-subscription.ts). With thousands of clients
// watching the same member, an event costs one upstream message, one executeQueryPlan and one
// JSON.stringify instead of one each per client.
//
// The share key is what decides the result: the owning subgraph, the printed document, the
// operation name, the coerced variables and the caller's identity (sub and role). Identities never
// share: the subgraph authorises per identity (a member may only watch itself) and other subgraphs
// may answer differently per caller. A subscription resuming from a cursor gets an upstream of its
// own, which first replays from the store what it missed.
//
// A client joining a live group gets the events from then on. That is what a fresh subscription
// gets only for root fields that start live (SHAREABLE_ROOT_FIELDS); others start with a catch-up
// of their own (sagaProgress from the order's first event, replayProgress from the replay's
// start), which a late joiner would miss, so they are never shared.
import { attr, trace, tracingEnabled } from '../../platform/tracing';
import { print, type DocumentNode } from 'graphql';
import type { ServiceMap } from '@apollo/gateway';
import type { Identity } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { QueueOverflowError } from '../../messaging/live/bounded-queue';
import type { GatewayContext } from '../context';
import { ClientSubscription, type FederatedSubscription, type SubscriberSocket } from './client-subscription';
import { keyHash, openFederatedUpstream, type FederatedResult, type FederatedSink, type FederatedUpstream, type FederatedUpstreamDeps } from './federated-upstream';
import type { SubscriptionPlanner } from './subscription-planner';
import type { UpstreamClients } from './upstream-clients';

/**
 * Root fields whose fresh subscription starts with the next event (no catch-up of its own): only
 * these are shared. A new subscription field is unshared until it is added here (correct, just
 * not fanned out).
 */
export const SHAREABLE_ROOT_FIELDS: ReadonlySet<string> = new Set(['memberUpdated', 'certificationLifecycle', 'certificationChanged', 'patternDetected']);

/** Hooks for metrics and for tests that wait on outcomes instead of sleeping. */
export interface SubscriptionObserver {
  /** A finished event is about to be queued for a client subscription. */
  received?(subscriptionId: string): void;
  /** A subscription's buffer overflowed; the client will be told to resume from `cursor`. */
  overflowed?(subscriptionId: string, cursor: string | null): void;
  /** An upstream subscription was opened on a subgraph (`group`: hash of its share key). */
  upstreamOpened?(group: string): void;
  /** An upstream subscription was closed (its last client left, or the subgraph ended it). */
  upstreamClosed?(group: string): void;
}

export interface SharedSubscriptionsDeps {
  readonly planner: SubscriptionPlanner;
  readonly upstream: UpstreamClients;
  /** The real data sources, by subgraph name, for the fields other subgraphs own. */
  readonly services: ServiceMap;
  readonly subgraphSecret: string;
  /** Events held per client subscription (and per upstream, awaiting execution). */
  readonly bufferSize: number;
  readonly logger: Logger;
  readonly observer?: SubscriptionObserver;
  readonly formatError?: FederatedUpstreamDeps['formatError'];
}

export interface SubscriptionRequest {
  /** The client's subscription id (graphql-ws message id). */
  readonly id: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** Coerced variables of the operation. */
  readonly variables: Record<string, unknown>;
  readonly context: GatewayContext;
  /** The client's resume cursor (`extensions.cursor` of its subscribe message). */
  readonly cursor: string | null;
  /** The client's WebSocket: events are written to it as graphql-ws `next` messages (client-subscription.ts). */
  readonly socket: SubscriberSocket;
}

/** JSON with object keys sorted, so equal variables give equal keys whatever their key order. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

export function shareKey(parts: {
  readonly service: string;
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
  readonly identity: Identity | null;
}): string {
  const identity = parts.identity ? [parts.identity.sub, parts.identity.role] : null;
  return JSON.stringify([parts.service, parts.operationName ?? null, parts.query, parts.variables, identity], sortedKeys);
}

/** One upstream subscription and the client subscriptions it feeds. */
class SubscriptionGroup {
  /** Members, with their subscription ids (for the observer). */
  private readonly members = new Map<ClientSubscription, string>();
  private readonly upstream: FederatedUpstream;
  private upstreamOpen = true;

  constructor(
    private readonly deps: SharedSubscriptionsDeps,
    /** The resume cursor of a group of its own (its only member starts from it). */
    private readonly cursor: string | null,
    private readonly logger: Logger,
    open: (sink: FederatedSink) => FederatedUpstream,
    private readonly onClosed: (group: SubscriptionGroup) => void,
  ) {
    this.upstream = open({
      next: (event) => this.fanOut(event),
      end: (error) => this.end(error),
      closed: () => {
        this.upstreamOpen = false;
        this.onClosed(this);
      },
    });
  }

  get size(): number {
    return this.members.size;
  }

  /** A live group takes members until its upstream closes; after that, a new group is opened. */
  get open(): boolean {
    return this.upstreamOpen;
  }

  join(subscriptionId: string, socket: SubscriberSocket): FederatedSubscription {
    const client: ClientSubscription = new ClientSubscription(subscriptionId, socket, this.deps.bufferSize, this.cursor, () => this.leave(client));
    this.members.set(client, subscriptionId);
    this.logger.trace({ subscriptionId, members: this.members.size }, 'joined a subscription group');
    return client;
  }

  private leave(client: ClientSubscription): void {
    const subscriptionId = this.members.get(client);
    if (subscriptionId === undefined) return;
    this.members.delete(client);
    this.logger.trace({ subscriptionId, members: this.members.size }, 'left a subscription group');
    if (this.members.size === 0 && this.upstreamOpen) this.upstream.close();
  }

  private fanOut(event: FederatedResult): void {
    const { observer } = this.deps;
    // The event's span (federated-upstream.ts) is active: it says how many clients it was sent to.
    if (tracingEnabled()) trace.getActiveSpan()?.setAttribute(attr.subscribers, this.members.size);
    // A member that overflows leaves the group (its queue closes) while this loop runs: Map
    // iteration tolerates deleting the entry being visited.
    for (const [client, subscriptionId] of this.members) {
      observer?.received?.(subscriptionId);
      if (!client.push(event)) observer?.overflowed?.(subscriptionId, client.cursor);
    }
  }

  private end(error?: unknown): void {
    const { observer } = this.deps;
    for (const [client, subscriptionId] of [...this.members]) {
      // The events waiting for execution overflowed: every member resumes from its own cursor.
      if (error instanceof QueueOverflowError) observer?.overflowed?.(subscriptionId, client.cursor);
      client.end(error);
    }
  }
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, SubscriptionGroup>();
  private upstreams = 0;
  private readonly upstreamDeps: FederatedUpstreamDeps;

  constructor(private readonly deps: SharedSubscriptionsDeps) {
    this.upstreamDeps = {
      planner: deps.planner,
      upstream: deps.upstream,
      services: deps.services,
      subgraphSecret: deps.subgraphSecret,
      bufferSize: deps.bufferSize,
      ...(deps.formatError ? { formatError: deps.formatError } : {}),
    };
  }

  /** Upstream subscriptions open on subgraphs (shared groups and subscriptions of their own). */
  get upstreamCount(): number {
    return this.upstreams;
  }

  /** Start a client subscription: join its group, or open one; throws GraphQLError when it cannot be planned. */
  subscribe(request: SubscriptionRequest): FederatedSubscription {
    const plan = this.deps.planner.plan(request.document, request.operationName);
    const query = print(request.document);
    const key = shareKey({
      service: plan.primary.serviceName,
      query,
      operationName: request.operationName,
      variables: request.variables,
      identity: request.context.identity,
    });
    // A resume, or a field that starts with a catch-up, needs an upstream of its own: never registered.
    const shared = request.cursor === null && SHAREABLE_ROOT_FIELDS.has(plan.rootField);
    const existing = shared ? this.groups.get(key) : undefined;
    if (existing?.open) return existing.join(request.id, request.socket);

    const hash = keyHash(key);
    const logger = this.deps.logger.child({ group: hash, correlationId: request.context.correlationId });
    const group = new SubscriptionGroup(
      this.deps,
      request.cursor,
      logger,
      (sink) =>
        openFederatedUpstream(
          this.upstreamDeps,
          { plan, query, operationName: request.operationName, variables: request.variables, context: request.context, cursor: request.cursor, logger },
          sink,
        ),
      (closed) => {
        this.upstreams -= 1;
        if (this.groups.get(key) === closed) this.groups.delete(key);
        logger.debug({ members: closed.size, upstreams: this.upstreams }, 'closed a subscription group');
        this.deps.observer?.upstreamClosed?.(hash);
      },
    );
    // Counted once the upstream is open (opening throws for an unknown subgraph).
    this.upstreams += 1;
    if (shared) this.groups.set(key, group);
    logger.debug(
      { service: plan.primary.serviceName, field: plan.rootField, members: 1, shared, resuming: request.cursor !== null, upstreams: this.upstreams },
      'opened a subscription group',
    );
    this.deps.observer?.upstreamOpened?.(hash);
    return group.join(request.id, request.socket);
  }
}
