// The certification subgraph, described once: its module, the certificationUpdated subscription's
// event types, and its workers (the expiry scheduler and its due index).
// The module first: its imports decide the order of the schema's fields (type-graphql metadata).
import { createCertificationModule } from './module';
import { defineSubgraph } from '../common/subgraph-definition';
import { certificationUpdateEventTypes } from './graphql/certification-update.resolver';
import { startCertificationWorkers } from './workers';

export const certificationSubgraph = defineSubgraph({
  name: 'certification',
  createModule: createCertificationModule,
  subscriptionEventTypes: certificationUpdateEventTypes,
  startWorkers: startCertificationWorkers,
  replayProjections: [],
});
