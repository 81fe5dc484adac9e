// The payment slice's background work: its bus consumers (the order saga, payment, inventory,
// shipping, notification and accounting services) and the durable scan of saga step timeouts.
import type { Backends } from '../../messaging/backends';
import type { ConsumerDefinition } from '../../messaging/consumers/consumer-definition';
import type { Config } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import type { RunningSubgraphWorkers } from '../common/subgraph-definition';
import { accountingConsumer } from './consumers/accounting.consumer';
import { inventoryConsumer } from './consumers/inventory.consumer';
import { notificationConsumer } from './consumers/notification.consumer';
import { orderSagaConsumer } from './consumers/order-saga.consumer';
import { paymentConsumer } from './consumers/payment.consumer';
import { shippingConsumer } from './consumers/shipping.consumer';
import { SagaTimeoutScanner } from './saga/saga-timeouts';
import { WorkerDowntime, downtimeGapMs } from './saga/worker-downtime';
import { createPaymentSlice, type PaymentSlice, type PaymentSliceSettings } from './slice';

export type PaymentWorkersConfig = Pick<Config, 'SAGA_STEP_TIMEOUT_MS' | 'SAGA_TIMEOUT_SCAN_MS'>;

export type PaymentWorkersOverrides = Omit<PaymentSliceSettings, 'stepTimeoutMs'> & {
  /** False: no interval scan (tests call `timeouts.scanOnce()` after moving a ManualClock). */
  readonly scanTimeouts?: boolean;
};

export interface PaymentWorkers extends RunningSubgraphWorkers {
  readonly slice: PaymentSlice;
  readonly consumers: ConsumerDefinition[];
  readonly timeouts: SagaTimeoutScanner;
  /** Seed stock, start the timeout scan. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function paymentWorkers(
  backends: Backends,
  cfg: PaymentWorkersConfig,
  overrides: PaymentWorkersOverrides = {},
): PaymentWorkers {
  const { store, documents, clock } = backends;
  const { scanTimeouts = true, ...sliceOverrides } = overrides;
  const slice = createPaymentSlice(backends, { stepTimeoutMs: cfg.SAGA_STEP_TIMEOUT_MS, ...sliceOverrides });
  const timeouts = new SagaTimeoutScanner(slice.runner, slice.orders, clock, loggerFor('order-saga-timeouts'), {
    intervalMs: cfg.SAGA_TIMEOUT_SCAN_MS,
    stepTimeoutMs: cfg.SAGA_STEP_TIMEOUT_MS,
    downtime: new WorkerDowntime(documents, downtimeGapMs(cfg.SAGA_TIMEOUT_SCAN_MS)),
  });
  const consumers = [
    orderSagaConsumer(slice.runner),
    paymentConsumer(slice.paymentService),
    inventoryConsumer({ inventory: slice.inventory, store }),
    shippingConsumer({ shipping: slice.shipping, store }),
    notificationConsumer({ documents, store, clock }),
    accountingConsumer({ ledger: slice.ledger, store, clock }),
  ] as ConsumerDefinition[];
  return {
    slice,
    consumers,
    timeouts,
    start: async () => {
      await slice.inventory.ensureStock();
      if (scanTimeouts) timeouts.start();
    },
    close: () => timeouts.stop(),
  };
}

/** Create and start them: stock seeded, the timeout scan running (the workers' uniform entry). */
export async function startPaymentWorkers(backends: Backends, cfg: PaymentWorkersConfig, overrides: PaymentWorkersOverrides = {}): Promise<PaymentWorkers> {
  const workers = paymentWorkers(backends, cfg, overrides);
  await workers.start();
  return workers;
}
