// The payment slice's background work on given (default: in-memory) backends, with a ManualClock
// for step timeouts, and helpers to place orders and wait for their sagas to end.
import { randomUUID } from 'node:crypto';
import { createMemoryBackends, type Backends } from '../../../messaging/backends';
import type { Identity } from '../../../platform/auth';
import { ManualClock } from '../../../platform/clock';
import { loadConfig } from '../../../platform/config';
import { MemberService } from '../../../subgraphs/member/domain/member-service';
import type { Mailer } from '../../../subgraphs/member/consumers/mailer';
import type { OrderView } from '../../../subgraphs/payment/domain/read-models';
import { testCards } from '../../../subgraphs/payment/domain/simulated-card-processor';
import type { PaymentWorkersOverrides } from '../../../subgraphs/payment/workers';
import { startWorkers, type RunningWorkers } from '../../../subgraphs/workers';
import { eventually } from '../../support/wait';

export const silentMailer: Mailer = { transport: 'mailbox', send: async () => undefined, close: async () => undefined };

export const noWait = { attempts: 4, initialDelayMs: 0 };

export const card = (number: string = testCards.success) => ({ number, expMonth: 12, expYear: 2030, cvc: '123' });

export const admin: Identity = { sub: 'admin-1', role: 'admin', expiresAt: null };

export interface PaymentHarness {
  readonly backends: Backends;
  readonly clock: ManualClock;
  workers: RunningWorkers;
  readonly members: MemberService;
  startWorkers(overrides?: PaymentWorkersOverrides): Promise<RunningWorkers>;
  /** Place an order as an admin, registering the member first if it is new. */
  order(memberId: string, items: { sku: string; quantity: number }[], cardNumber?: string): Promise<OrderView>;
  settled(orderId: string, timeoutMs?: number): Promise<OrderView>;
  /**
   * Let `ms` pass on the clock while the workers run: a timeout scan (and so a heartbeat) every
   * SAGA_TIMEOUT_SCAN_MS, as the interval scan does. Moving the clock alone is downtime to the saga.
   * Resolves to how many sagas timed out.
   */
  runFor(ms: number): Promise<number>;
  close(): Promise<void>;
}

export async function startPaymentHarness(
  options: { backends?: Backends; clock?: ManualClock; env?: Record<string, string>; overrides?: PaymentWorkersOverrides } = {},
): Promise<PaymentHarness> {
  const clock = options.clock ?? new ManualClock('2025-03-01T10:00:00.000Z');
  const backends = options.backends ?? (await createMemoryBackends(clock));
  const cfg = loadConfig({ NODE_ENV: 'test', FOLLOWER_POLL_MS: '20', SAGA_STEP_TIMEOUT_MS: '60000', ...options.env });
  const start = (overrides: PaymentWorkersOverrides = options.overrides ?? {}) =>
    startWorkers(backends, cfg, { member: { mailer: silentMailer }, payment: { retry: noWait, scanTimeouts: false, ...overrides } });
  const harness: PaymentHarness = {
    backends,
    clock,
    workers: await start(),
    members: new MemberService(backends.store, backends.documents, clock, 50),
    startWorkers: async (overrides) => {
      harness.workers = await start(overrides);
      return harness.workers;
    },
    order: async (memberId, items, cardNumber) => {
      // Orders are for registered members only: register the member on its first order.
      if (!(await harness.members.get(memberId))) {
        await harness.members.create(admin, { id: memberId, email: `${memberId}@example.org`, firstName: 'Test', lastName: 'Member' }, { correlationId: randomUUID() });
      }
      return harness.workers.payment.slice.orderService.create(admin, { memberId, items, card: card(cardNumber) }, { correlationId: randomUUID() });
    },
    settled: (orderId, timeoutMs = 10_000) =>
      eventually(async () => {
        const view = await harness.workers.payment.slice.orders.get(orderId);
        return view && !view.open ? view : null;
      }, `order ${orderId} to reach a final state`, timeoutMs),
    runFor: async (ms) => {
      let timedOut = 0;
      for (let left = ms; left > 0; left -= cfg.SAGA_TIMEOUT_SCAN_MS) {
        clock.advance(Math.min(left, cfg.SAGA_TIMEOUT_SCAN_MS));
        timedOut += await harness.workers.payment.timeouts.scanOnce();
      }
      return timedOut;
    },
    close: async () => {
      await harness.workers.close();
      if (!options.backends) await backends.close();
    },
  };
  return harness;
}
