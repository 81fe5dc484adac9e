// The payment subgraph assembled: products and stock, the checkout, orders, payments, the ledger,
// the Member fields it contributes and the sagaProgress subscription. The saga itself and the
// services run in the workers (subgraphs/payment/workers.ts).
import type { Backends } from '../../messaging/backends';
import type { Config } from '../../platform/config';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { resolverContainer, type SubgraphModule } from '../common/subgraph-module';
import { topicsNotSupported } from '../common/subscription-payload';
import { MemberOrdersResolver, OrderFieldsResolver, OrderResolver, ProductStockResolver, type OrderResolverDeps } from './graphql/order.resolver';
import { MemberRef } from './graphql/order.type';
import { ProductResolver, resolveProductReference } from './graphql/product.resolver';
import { registerSagaProgressSource, SagaProgressResolver } from './graphql/saga-progress.resolver';
import { orderViewOf } from './saga/saga-runner';
import { createPaymentSlice, type PaymentSlice } from './slice';

export interface PaymentModule extends SubgraphModule {
  readonly slice: PaymentSlice;
}

export async function createPaymentModule(
  backends: Backends,
  cfg: Pick<Config, 'SAGA_STEP_TIMEOUT_MS'>,
): Promise<PaymentModule> {
  const slice = createPaymentSlice(backends, { stepTimeoutMs: cfg.SAGA_STEP_TIMEOUT_MS });
  const deps: OrderResolverDeps = {
    orders: slice.orderService,
    ledger: slice.ledger,
    inventory: slice.inventory,
    orderViews: slice.orders,
    paymentViews: slice.payments,
  };
  const schema = await buildFederatedSchema({
    resolvers: [ProductResolver, ProductStockResolver, OrderResolver, OrderFieldsResolver, MemberOrdersResolver, SagaProgressResolver],
    orphanedTypes: [MemberRef],
    pubSub: topicsNotSupported,
    container: resolverContainer([
      new ProductStockResolver(slice.inventory),
      new OrderResolver(deps),
      new OrderFieldsResolver(slice.payments),
      new MemberOrdersResolver(deps),
      new SagaProgressResolver(slice.orders, async (orderId) => orderViewOf(await slice.runner.load(orderId))),
    ]),
    referenceResolvers: {
      Product: { __resolveReference: resolveProductReference },
      // Member fields of this subgraph only need the key; each field checks who may read it.
      Member: { __resolveReference: (reference: { id: string }) => Object.assign(new MemberRef(), { id: reference.id }) },
    },
  });
  registerSagaProgressSource(schema, slice.orders);
  return {
    name: 'payment',
    schema,
    slice,
    // Stock exists before the first order can ask for it (the workers seed it too).
    start: () => slice.inventory.ensureStock(),
    close: async () => {},
  };
}
