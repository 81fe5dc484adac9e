// The payment subgraph, described once: its module, the sagaProgress subscription's event types,
// and its workers (the order saga and its services' consumers, the saga timeout scan).
// The module first: its imports decide the order of the schema's fields (type-graphql metadata).
import { createPaymentModule } from './module';
import { defineSubgraph } from '../common/subgraph-definition';
import { sagaProgressEventTypes } from './saga/saga-progress';
import { startPaymentWorkers } from './workers';

export const paymentSubgraph = defineSubgraph({
  name: 'payment',
  createModule: createPaymentModule,
  subscriptionEventTypes: sagaProgressEventTypes,
  startWorkers: startPaymentWorkers,
  replayProjections: [],
});
