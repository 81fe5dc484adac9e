// The checkout (the seed's Payment API and "Create Order"): validates the order, the member (it must
// exist) and the card, starts the saga (order.created + payment.initiated in one append to the order's
// stream) and answers at once; the saga and the services do the rest asynchronously. A refusal stores
// nothing and charges nothing.
import { randomUUID } from 'node:crypto';
import type { CausationContext } from '../../../messaging/events/envelope';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Identity } from '../../../platform/auth';
import type { Clock } from '../../../platform/clock';
import { ForbiddenError, ValidationError } from '../../../platform/errors';
import type { OrderSagaRunner } from '../saga/saga-runner';
import { requireMembers, type MemberDirectory } from '../../member/member-directory';
import { orderViewOf } from '../saga/saga-runner';
import { priceOrder, type OrderFacts } from './order';
import type { IdempotencyKeys } from '../../../messaging/state/idempotency-keys';
import { deterministicUuid } from '../../../platform/ids';
import type { CardInput, PaymentGateway } from './payment-gateway';
import type { OrderView, PaymentView } from './read-models';

export interface CreateOrderInput {
  readonly memberId?: string | null;
  readonly items: readonly { sku: string; quantity: number }[];
  readonly card: CardInput;
}

const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class OrderService {
  constructor(
    private readonly runner: OrderSagaRunner,
    private readonly gateway: PaymentGateway,
    private readonly orders: DocumentCollection<OrderView>,
    private readonly payments: DocumentCollection<PaymentView>,
    private readonly clock: Clock,
    private readonly members: MemberDirectory,
    private readonly keys: IdempotencyKeys,
  ) {}

  /**
   * Place an order. With an idempotency key, a repeat of the same request answers the first order
   * (no second order, no second charge) and the same key with another request is CONFLICT.
   */
  async create(identity: Identity, input: CreateOrderInput, context: CausationContext, idempotencyKey: string | null = null): Promise<OrderView> {
    const memberId = identity.role === 'admin' ? (input.memberId ?? identity.sub) : identity.sub;
    if (identity.role !== 'admin' && input.memberId && input.memberId !== identity.sub) {
      throw new ForbiddenError(`A member may only order for itself (you are ${identity.sub}).`);
    }
    if (!MEMBER_ID.test(memberId)) throw new ValidationError('memberId must be 1 to 64 letters, digits, "-" or "_".', { field: 'memberId' });
    const priced = priceOrder(input.items);
    // No charge for a member nobody registered: its paid membership could never be activated.
    await requireMembers(this.members, [memberId], () => 'memberId');
    return this.keys.run(
      { operation: 'createOrder', caller: identity, key: idempotencyKey, input: { memberId, items: input.items, card: input.card } },
      {
        newId: () => randomUUID(),
        find: async (orderId) => orderViewOf(await this.runner.load(orderId)),
        create: (orderId) => this.start({ orderId, memberId, ...priced, currency: 'EUR', paymentId: deterministicUuid(`payment-of-order:${orderId}`) }, input.card, context),
      },
    );
  }

  /**
   * Start the saga of `order`. Twice with one order id (a repeated idempotency key, even from two
   * processes at once) starts it once: the saga's first append has ids derived from the order id.
   */
  private async start(order: OrderFacts, cardInput: CardInput, context: CausationContext): Promise<OrderView> {
    const now = this.clock.now();
    const card = await this.gateway.tokenize(cardInput, now);
    const at = now.toISOString();
    // The payment view exists before the payment service can see payment.initiated, so its
    // updates always find it; if the append fails the view is removed again (by whoever made it).
    const inserted = await this.payments.insert({
      id: order.paymentId,
      orderId: order.orderId,
      memberId: order.memberId,
      status: 'initiated',
      amountCents: order.totalCents,
      currency: 'EUR',
      cardBrand: card.brand,
      cardLast4: card.last4,
      failureReason: null,
      refundedCents: null,
      createdAt: at,
      updatedAt: at,
    });
    try {
      const started = await this.runner.apply(order.orderId, { kind: 'start', order, card }, context, `start:${order.orderId}`);
      const view = orderViewOf(started);
      if (!view) throw new Error('the saga did not start');
      return view;
    } catch (error) {
      if (inserted) await this.payments.delete(order.paymentId);
      throw error;
    }
  }

  /** An order its member or an admin may see (null when there is none); anyone else gets FORBIDDEN. */
  async get(identity: Identity, orderId: string): Promise<OrderView | null> {
    const order = await this.orders.get(orderId);
    if (!order) return null;
    if (identity.role !== 'admin' && order.memberId !== identity.sub) {
      throw new ForbiddenError(`Order ${orderId} belongs to another member.`);
    }
    return order;
  }

  /** A payment its member or an admin may see (null when there is none); anyone else gets FORBIDDEN. */
  async getPayment(identity: Identity, paymentId: string): Promise<PaymentView | null> {
    const payment = await this.payments.get(paymentId);
    if (!payment) return null;
    if (identity.role !== 'admin' && payment.memberId !== identity.sub) {
      throw new ForbiddenError(`Payment ${paymentId} belongs to another member.`);
    }
    return payment;
  }
}
