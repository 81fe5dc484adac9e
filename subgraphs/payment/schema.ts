// The payment subgraph's schema: products, orders, payments and the ledger.
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { ProductResolver, resolveProductReference } from './graphql/product.resolver';

export async function buildPaymentSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({
    resolvers: [ProductResolver],
    referenceResolvers: { Product: { __resolveReference: resolveProductReference } },
  });
}
