// The payment slice's read models: one document per order (also the saga's timeout index) and one
// per payment. Writers save a view only if it is newer than the stored one, so redeliveries and
// late writers never move a view back.
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { OrderLine } from './order';

export type OrderStatusValue =
  | 'awaiting_payment'
  | 'reserving_stock'
  | 'creating_shipment'
  | 'compensating'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface OrderView {
  readonly id: string;
  readonly memberId: string;
  readonly status: OrderStatusValue;
  readonly items: readonly OrderLine[];
  readonly totalCents: number;
  readonly currency: 'EUR';
  readonly paymentId: string;
  readonly trackingNumber: string | null;
  readonly failureReason: string | null;
  readonly refundedCents: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Order stream version the view reflects. */
  readonly version: number;
  /** True while the saga runs; with deadlineAt, what the timeout scan looks at. */
  readonly open: boolean;
  readonly deadlineAt: string | null;
  readonly correlationId: string;
  readonly createdPosition: number;
}

export type PaymentStatusValue = 'initiated' | 'authorized' | 'completed' | 'failed' | 'refunded';

export interface PaymentView {
  readonly id: string;
  readonly orderId: string;
  readonly memberId: string;
  readonly status: PaymentStatusValue;
  readonly amountCents: number;
  readonly currency: 'EUR';
  readonly cardBrand: string;
  readonly cardLast4: string;
  readonly failureReason: string | null;
  readonly refundedCents: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function ordersCollection(documents: DocumentStore): DocumentCollection<OrderView> {
  return documents.collection<OrderView>('payment_orders', { indexes: ['memberId', 'open', 'deadlineAt', 'createdAt'] });
}

export function paymentsCollection(documents: DocumentStore): DocumentCollection<PaymentView> {
  return documents.collection<PaymentView>('payment_payments', { indexes: ['memberId', 'orderId', 'createdAt'] });
}

/** How a member's orders and payments are listed: newest first (ties by id). */
export const newestFirst = { field: 'createdAt', direction: 'desc' } as const;

/** Save an order view unless a newer one is stored. */
export async function saveOrderView(orders: DocumentCollection<OrderView>, view: OrderView): Promise<void> {
  await orders.update(view.id, (current) => (current && current.version >= view.version ? null : view));
}

const paymentRank: Record<PaymentStatusValue, number> = { initiated: 0, authorized: 1, completed: 2, failed: 2, refunded: 3 };

/** Move a payment view forward; a status never goes back (refunded stays refunded). */
export async function advancePaymentView(
  payments: DocumentCollection<PaymentView>,
  id: string,
  change: Partial<Omit<PaymentView, 'id'>> & { status: PaymentStatusValue; updatedAt: string },
): Promise<void> {
  await payments.update(id, (current) => {
    if (!current) return null;
    if (paymentRank[current.status] > paymentRank[change.status]) {
      // Keep facts that arrive late (a failure reason) without moving the status back.
      return change.failureReason && !current.failureReason ? { ...current, failureReason: change.failureReason } : null;
    }
    return { ...current, ...change };
  });
}
