// The analytics subgraph assembled: the event registry and monitor; activity windows as they land.
import type { Backends } from '../../messaging/backends';
import { buildFederatedSchema } from '../common/build-federated-schema';
import type { SubgraphModule } from '../common/subgraph-module';
import { EventContractResolver } from './graphql/event-contract.resolver';

export async function createAnalyticsModule(_backends: Backends): Promise<SubgraphModule> {
  const schema = await buildFederatedSchema({ resolvers: [EventContractResolver] });
  return { name: 'analytics', schema, start: async () => {}, close: async () => {} };
}
