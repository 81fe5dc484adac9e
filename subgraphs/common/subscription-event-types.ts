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
  // eventFlow (the console's event flow page) takes every type, the others' included.
  analytics: [...new Set([...patternDetectedEventTypes, ...replayProgressEventTypes, ...eventFlowEventTypes])],
};
