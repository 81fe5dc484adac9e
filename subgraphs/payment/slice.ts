// The payment slice's parts wired on the process's backends: read models, the card processor
// (simulated), the saga runner and the services. Built by the subgraph module and by the workers.
import type { Backends } from '../../messaging/backends';
import { Inventory } from './domain/inventory';
import { Ledger } from './domain/ledger';
import { OrderService } from './domain/order-service';
import type { PaymentGateway } from './domain/payment-gateway';
import { defaultRetryPolicy, PaymentService, type RetryPolicy } from './domain/payment-service';
import { ordersCollection, paymentsCollection } from './domain/read-models';
import { Shipping } from './domain/shipping';
import { SimulatedCardProcessor } from './domain/simulated-card-processor';
import { createOrderSaga } from './saga/order-saga';
import { storeMemberDirectory } from '../member/member-directory';
import { IdempotencyKeys } from '../../messaging/state/idempotency-keys';
import { OrderSagaRunner } from './saga/saga-runner';

export interface PaymentSliceSettings {
  readonly stepTimeoutMs: number;
  /** Replaces the simulated card processor (a real provider, or a test double). */
  readonly gateway?: PaymentGateway;
  readonly retry?: RetryPolicy;
}

export type PaymentSlice = ReturnType<typeof createPaymentSlice>;

export function createPaymentSlice(backends: Backends, settings: PaymentSliceSettings) {
  const { store, documents, clock } = backends;
  const orders = ordersCollection(documents);
  const payments = paymentsCollection(documents);
  const gateway = settings.gateway ?? new SimulatedCardProcessor(documents);
  const runner = new OrderSagaRunner(createOrderSaga({ stepTimeoutMs: settings.stepTimeoutMs }), store, orders, clock);
  return {
    orders,
    payments,
    gateway,
    runner,
    orderService: new OrderService(runner, gateway, orders, payments, clock, storeMemberDirectory(store), new IdempotencyKeys(documents, clock)),
    paymentService: new PaymentService(gateway, store, payments, clock, settings.retry ?? defaultRetryPolicy),
    inventory: new Inventory(documents, clock),
    shipping: new Shipping(documents, clock),
    ledger: new Ledger(documents),
  };
}
