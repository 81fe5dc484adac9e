// The payment subgraph assembled: products today; orders, payments and the saga as they land.
import type { Backends } from '../../messaging/backends';
import { buildFederatedSchema } from '../common/build-federated-schema';
import type { SubgraphModule } from '../common/subgraph-module';
import { ProductResolver, resolveProductReference } from './graphql/product.resolver';

export async function createPaymentModule(_backends: Backends): Promise<SubgraphModule> {
  const schema = await buildFederatedSchema({
    resolvers: [ProductResolver],
    referenceResolvers: { Product: { __resolveReference: resolveProductReference } },
  });
  return { name: 'payment', schema, start: async () => {}, close: async () => {} };
}
