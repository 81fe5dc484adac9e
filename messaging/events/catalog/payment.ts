// Event contracts of the payment domain and the order saga: the seed's Payment Processing flow
// and its Saga Pattern diagram. Commands on the bus (payment.refund, inventory.reserve,
// inventory.release, shipping.create) are messages too, stored in the order's stream.
import { z } from 'zod';
import { defineEvent } from './define';

const id = z.string().min(1).max(64);
const memberId = z.string().min(1).max(64);
const cents = z.number().int().min(0);
const currency = z.literal('EUR');
const tier = z.enum(['basic', 'premium', 'vip']);
const orderItem = z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().min(1), unitPriceCents: cents });
const stockLine = z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().min(1) });
const card = z.object({
  /** Opaque token minted by the payment gateway adapter; never the card number. */
  token: z.string().min(1).max(128),
  brand: z.string().min(1).max(32),
  last4: z.string().regex(/^\d{4}$/),
});
const failureReason = z.enum(['card_declined', 'insufficient_funds', 'gateway_unavailable', 'cancelled']);
const ledgerEntry = z.object({ account: z.string().min(1).max(64), debitCents: cents, creditCents: cents });

export const paymentEvents = {
  'order.created': defineEvent({
    version: 1,
    description: 'A member placed an order; the order saga starts.',
    schema: z.object({
      orderId: id,
      memberId,
      items: z.array(orderItem).min(1),
      totalCents: cents,
      currency,
      paymentId: id,
      /** Membership products of the order: the membership the order activates once it completes. */
      memberships: z.array(z.object({ sku: z.string().min(1), tier, months: z.number().int().min(1) })),
    }),
  }),
  'payment.initiated': defineEvent({
    version: 1,
    description: 'The checkout asked for a payment (the payment service authorises and captures it).',
    schema: z.object({ paymentId: id, orderId: id, memberId, amountCents: cents, currency, card }),
  }),
  'payment.authorized': defineEvent({
    version: 1,
    description: 'The payment gateway authorised the amount on the card.',
    schema: z.object({ paymentId: id, orderId: id, memberId, amountCents: cents, authorizationId: z.string().min(1) }),
  }),
  'payment.completed': defineEvent({
    version: 1,
    description: 'The authorised amount was captured: the money moved.',
    schema: z.object({ paymentId: id, orderId: id, memberId, amountCents: cents, currency, chargeId: z.string().min(1) }),
  }),
  'payment.failed': defineEvent({
    version: 1,
    description: 'The payment was refused (declined card, insufficient funds) or cancelled before capture.',
    schema: z.object({ paymentId: id, orderId: id, memberId, reason: failureReason, message: z.string() }),
  }),
  'payment.refund': defineEvent({
    version: 1,
    description: 'Command (saga compensation): give back whatever this payment captured; cancels it if not captured yet.',
    schema: z.object({ paymentId: id, orderId: id, memberId, reason: z.string().min(1) }),
  }),
  'payment.refunded': defineEvent({
    version: 1,
    description: 'A refund is done; amountCents is 0 when nothing had been captured (the payment was cancelled).',
    schema: z.object({ paymentId: id, orderId: id, memberId, amountCents: cents, currency, refundId: z.string().min(1) }),
  }),
  'inventory.reserve': defineEvent({
    version: 1,
    description: 'Command (saga): hold stock for the items of an order.',
    schema: z.object({ orderId: id, items: z.array(stockLine).min(1) }),
  }),
  'inventory.reserved': defineEvent({
    version: 1,
    description: 'Stock is held for every item of the order.',
    schema: z.object({ orderId: id, items: z.array(stockLine).min(1) }),
  }),
  'inventory.failed': defineEvent({
    version: 1,
    description: 'Stock could not be held (not enough of a sku, or the order was cancelled first); nothing is held.',
    schema: z.object({ orderId: id, reason: z.enum(['out_of_stock', 'cancelled']), sku: z.string().nullable() }),
  }),
  'inventory.release': defineEvent({
    version: 1,
    description: 'Command (saga compensation): give back the stock held for an order (and refuse any later reservation of it).',
    schema: z.object({ orderId: id, items: z.array(stockLine).min(1) }),
  }),
  'inventory.released': defineEvent({
    version: 1,
    description: 'The stock held for an order is back on sale (items empty when none was held).',
    schema: z.object({ orderId: id, items: z.array(stockLine) }),
  }),
  'shipping.create': defineEvent({
    version: 1,
    description: 'Command (saga): ship the items of an order to the member.',
    schema: z.object({ orderId: id, memberId, items: z.array(stockLine).min(1) }),
  }),
  'shipment.created': defineEvent({
    version: 1,
    description: 'A shipment exists for the order, with its tracking number.',
    schema: z.object({ orderId: id, memberId, shipmentId: id, trackingNumber: z.string().min(1), carrier: z.string().min(1) }),
  }),
  'order.completed': defineEvent({
    version: 1,
    description: 'The order saga succeeded: paid, stock held, shipped.',
    schema: z.object({
      orderId: id,
      memberId,
      paymentId: id,
      trackingNumber: z.string().min(1),
      memberships: z.array(z.object({ sku: z.string().min(1), tier, months: z.number().int().min(1) })),
    }),
  }),
  'order.failed': defineEvent({
    version: 1,
    description: 'The order saga ended without taking money: the payment failed or never answered.',
    schema: z.object({ orderId: id, memberId, reason: z.string().min(1) }),
  }),
  'order.cancelled': defineEvent({
    version: 1,
    description: 'The order saga ended after compensation: the payment was refunded, held stock released.',
    schema: z.object({ orderId: id, memberId, reason: z.string().min(1), refundedCents: cents }),
  }),
  'notification.sent': defineEvent({
    version: 1,
    description: 'The member was told about a payment (confirmation, failure, refund).',
    schema: z.object({
      memberId,
      orderId: id,
      channel: z.literal('email'),
      template: z.enum(['payment_received', 'payment_failed', 'payment_refunded']),
      sourceEventId: z.string().uuid(),
    }),
  }),
  'transaction.recorded': defineEvent({
    version: 1,
    description: 'A balanced double-entry transaction in the ledger (debits equal credits).',
    schema: z
      .object({
        transactionId: id,
        orderId: id,
        paymentId: id,
        kind: z.enum(['capture', 'refund']),
        entries: z.array(ledgerEntry).min(2),
      })
      .refine((t) => t.entries.reduce((s, e) => s + e.debitCents - e.creditCents, 0) === 0, 'debits must equal credits'),
  }),
} as const;
