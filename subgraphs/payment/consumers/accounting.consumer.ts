// The seed's Accounting service: posts each capture and refund to the double-entry ledger and
// announces it with transaction.recorded (one transaction per payment and kind, ever).
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { EventStore } from '../../../messaging/store/event-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { captureTransaction, refundTransaction, type Ledger } from '../domain/ledger';
import { causedBy } from '../domain/payment-service';

export function accountingConsumer(deps: { ledger: Ledger; store: EventStore; clock: Clock }) {
  return defineConsumer({
    name: 'accounting',
    handles: ['payment.completed', 'payment.refunded'],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event) {
      const p = event.payload;
      if (p.amountCents === 0) return; // a cancelled payment moved no money
      const at = deps.clock.now().toISOString();
      const transaction =
        event.type === 'payment.completed'
          ? captureTransaction(p.paymentId, p.orderId, p.amountCents, at)
          : refundTransaction(p.paymentId, p.orderId, p.amountCents, at);
      await deps.ledger.post(transaction);
      // The posted transaction (the first one, if this is a repeat) is what gets announced.
      const posted = (await deps.ledger.transactions.get(transaction.id)) ?? transaction;
      await deps.store.append(
        `ledger-${p.orderId}`,
        [
          {
            id: deterministicUuid(`transaction.recorded:${posted.id}`),
            type: 'transaction.recorded',
            payload: { transactionId: posted.id, orderId: posted.orderId, paymentId: posted.paymentId, kind: posted.kind, entries: [...posted.entries] },
          },
        ],
        { expectedVersion: 'any', context: causedBy(event, 'accounting') },
      );
    },
  });
}
