// The analytics subgraph assembled: the event registry and monitor; activity windows as they land.
import type { Backends } from '../../messaging/backends';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { resolverContainer, type SubgraphModule } from '../common/subgraph-module';
import { EventContractResolver } from './graphql/event-contract.resolver';
import { EventMonitorResolver } from './graphql/event-monitor.resolver';

export async function createAnalyticsModule(backends: Backends): Promise<SubgraphModule> {
  const schema = await buildFederatedSchema({
    resolvers: [EventContractResolver, EventMonitorResolver],
    container: resolverContainer([new EventMonitorResolver(backends)]),
  });
  return { name: 'analytics', schema, start: async () => {}, close: async () => {} };
}
