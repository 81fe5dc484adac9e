// The analytics subgraph's schema: the event registry and monitor, activity windows, patterns.
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { EventContractResolver } from './graphql/event-contract.resolver';

export async function buildAnalyticsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({ resolvers: [EventContractResolver] });
}
