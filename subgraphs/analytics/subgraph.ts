// The analytics subgraph, described once: its module (which runs the stream processor under its
// lease) and its subscriptions' event types. It has no worker-process work of its own.
// The module first: its imports decide the order of the schema's fields (type-graphql metadata).
import { createAnalyticsModule } from './module';
import { defineSubgraph, noWorkers } from '../common/subgraph-definition';
import { eventFlowEventTypes } from './graphql/event-flow.resolver';
import { patternDetectedEventTypes } from './graphql/pattern-detected.resolver';
import { replayProgressEventTypes } from './graphql/replay-progress.resolver';

export const analyticsSubgraph = defineSubgraph({
  name: 'analytics',
  createModule: createAnalyticsModule,
  subscriptionEventTypes: [...new Set([...patternDetectedEventTypes, ...replayProgressEventTypes])],
  // eventFlow (the console's event flow page) takes every type: binding them all always would put
  // every event of the deployment through this live queue even when nobody watches.
  onDemandSubscriptionEventTypes: eventFlowEventTypes,
  startWorkers: noWorkers,
  replayProjections: [],
});
