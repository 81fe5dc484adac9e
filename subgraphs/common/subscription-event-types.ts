// Which event types each subgraph's subscriptions need: its live queue binds to exactly these.
import type { EventType } from '../../messaging/events/catalog';
import { memberUpdateEventTypes } from '../member/graphql/member-update.resolver';
import { certificationUpdateEventTypes } from '../certification/graphql/certification-update.resolver';
import { sagaProgressEventTypes } from '../payment/saga/saga-progress';
import { patternDetectedEventTypes } from '../analytics/graphql/pattern-detected.resolver';
import { replayProgressEventTypes } from '../analytics/graphql/replay-progress.resolver';
import { eventFlowEventTypes } from '../analytics/graphql/event-flow.resolver';
import type { SubgraphName } from './subgraph-server';

export const subscriptionEventTypes: Readonly<Record<SubgraphName, readonly EventType[]>> = {
  member: memberUpdateEventTypes,
  payment: sagaProgressEventTypes,
  certification: certificationUpdateEventTypes,
  analytics: [...new Set([...patternDetectedEventTypes, ...replayProgressEventTypes])],
};

/**
 * Types bound only while a subscription asks for one beyond the above: eventFlow (the console's
 * event flow page) takes every type, and binding them all always would put every event of the
 * deployment through the analytics subgraph's live queue even when nobody watches.
 */
export const onDemandSubscriptionEventTypes: Readonly<Partial<Record<SubgraphName, readonly EventType[]>>> = {
  analytics: eventFlowEventTypes,
};
