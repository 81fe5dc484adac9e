// The member subgraph, described once: its module, the memberUpdated subscription's event types,
// its consumers (CRM, email, audit, activity, memberships) and the read model replays rebuild.
// The module first: its imports decide the order of the schema's fields (type-graphql metadata).
import { createMemberModule } from './module';
import type { RebuildableProjection } from '../../messaging/replay/projection-versions';
import { defineSubgraph } from '../common/subgraph-definition';
import { memberUpdateEventTypes } from './graphql/member-update.resolver';
import { memberReadModelRebuild } from './projections/member-read-model';
import { startMemberWorkers } from './workers';

export const memberSubgraph = defineSubgraph({
  name: 'member',
  createModule: createMemberModule,
  subscriptionEventTypes: memberUpdateEventTypes,
  startWorkers: startMemberWorkers,
  replayProjections: [memberReadModelRebuild as unknown as RebuildableProjection],
});
