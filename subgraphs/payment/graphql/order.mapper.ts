// Read-model documents to API objects.
import { findProduct } from '../domain/product-catalog';
import type { OrderView, PaymentView } from '../domain/read-models';
import { MemberRef, Order, OrderItem, OrderStatus, Payment, PaymentStatus } from './order.type';
import { toProduct } from './product.resolver';

export function memberRef(id: string): MemberRef {
  return Object.assign(new MemberRef(), { id });
}

export function toOrder(view: OrderView): Order {
  return Object.assign(new Order(), {
    id: view.id,
    memberId: view.memberId,
    member: memberRef(view.memberId),
    status: view.status as OrderStatus,
    items: view.items.map((i) => {
      const product = findProduct(i.sku);
      return Object.assign(new OrderItem(), { ...i, product: product ? toProduct(product) : null });
    }),
    totalCents: view.totalCents,
    currency: view.currency,
    paymentId: view.paymentId,
    payment: null,
    trackingNumber: view.trackingNumber,
    failureReason: view.failureReason,
    refundedCents: view.refundedCents,
    stepDeadlineAt: view.deadlineAt ? new Date(view.deadlineAt) : null,
    createdAt: new Date(view.createdAt),
    updatedAt: new Date(view.updatedAt),
  });
}

export function toPayment(view: PaymentView): Payment {
  return Object.assign(new Payment(), {
    ...view,
    status: view.status as PaymentStatus,
    createdAt: new Date(view.createdAt),
    updatedAt: new Date(view.updatedAt),
  });
}
