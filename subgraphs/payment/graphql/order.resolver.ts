// The checkout and order/payment queries. createOrder answers as soon as the saga started (the
// order is AWAITING_PAYMENT); follow it with `order(id)` or the `sagaProgress` subscription.
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { causationOf, idempotencyKeyOf, requireAdmin, requireIdentity, requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { Inventory } from '../domain/inventory';
import type { Ledger as LedgerService } from '../domain/ledger';
import type { OrderService } from '../domain/order-service';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { PaymentView } from '../domain/read-models';
import { CreateOrderInput } from './order.inputs';
import { toOrder, toPayment } from './order.mapper';
import { Ledger, LedgerAccount, MemberRef, Order, Payment } from './order.type';
import { Product } from './product.type';
import { toProduct } from './product.resolver';
import { findProduct } from '../domain/product-catalog';
import { NotFoundError } from '../../../platform/errors';

export interface OrderResolverDeps {
  readonly orders: OrderService;
  readonly ledger: LedgerService;
  readonly inventory: Inventory;
}

@Resolver(() => Order)
export class OrderResolver {
  constructor(private readonly deps: OrderResolverDeps) {}

  @Mutation(() => Order, {
    description:
      'Place an order: validates items, member and card, starts the order saga and answers at once (AWAITING_PAYMENT). Unknown sku, quantity < 1, bad card data: BAD_USER_INPUT; no such member: NOT_FOUND; nothing stored. With an idempotency key (input field or Idempotency-Key header) a repeat answers the first order; the same key with another request: CONFLICT.',
  })
  async createOrder(@Arg('input', () => CreateOrderInput) input: CreateOrderInput, @Ctx() ctx: SubgraphContext): Promise<Order> {
    const identity = requireIdentity(ctx);
    const { idempotencyKey, ...order } = input;
    const view = await this.deps.orders.create(identity, order, causationOf(ctx), idempotencyKeyOf(ctx, idempotencyKey));
    return toOrder(view);
  }

  @Query(() => Order, { description: 'An order (yours, or anyone\'s for admins). Someone else\'s order: FORBIDDEN.' })
  async order(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Order> {
    return toOrder(await this.deps.orders.get(requireIdentity(ctx), id));
  }

  @Query(() => [Order], { description: 'A member\'s orders, newest first (yourself, or anyone for admins).' })
  async orders(
    @Arg('memberId', () => ID) memberId: string,
    @Ctx() ctx: SubgraphContext,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<Order[]> {
    requireSelfOrAdmin(ctx, memberId);
    return (await this.deps.orders.ordersOf(memberId, clampLimit(limit))).map(toOrder);
  }

  @Query(() => Payment, { description: 'A payment (yours, or anyone\'s for admins).' })
  async payment(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Payment> {
    return toPayment(await this.deps.orders.getPayment(requireIdentity(ctx), id));
  }

  @Query(() => Ledger, { description: 'Admins: the double-entry ledger\'s balances (they always sum to zero).' })
  async ledger(@Ctx() ctx: SubgraphContext): Promise<Ledger> {
    requireAdmin(ctx);
    const balances = await this.deps.ledger.balances();
    return Object.assign(new Ledger(), {
      accounts: balances.map((b) => Object.assign(new LedgerAccount(), b)),
      totalCents: balances.reduce((s, b) => s + b.balanceCents, 0),
      transactionCount: await this.deps.ledger.transactions.count(),
    });
  }

  @Mutation(() => Product, { description: 'Admins: set how many units of a product are on sale.' })
  async setStock(
    @Arg('sku', () => ID) sku: string,
    @Arg('available', () => Int) available: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Product> {
    requireAdmin(ctx);
    await this.deps.inventory.setAvailable(sku, available);
    const product = findProduct(sku);
    if (!product) throw new NotFoundError(`Unknown sku "${sku}".`, { field: 'sku' });
    return toProduct(product);
  }
}

/** Fields of Order read from other documents. */
@Resolver(() => Order)
export class OrderFieldsResolver {
  constructor(private readonly payments: DocumentCollection<PaymentView>) {}

  @FieldResolver(() => Payment, { nullable: true })
  async payment(@Root() order: Order): Promise<Payment | null> {
    const view = await this.payments.get(order.paymentId);
    return view ? toPayment(view) : null;
  }
}

@Resolver(() => Product)
export class ProductStockResolver {
  constructor(private readonly inventory: Inventory) {}

  @FieldResolver(() => Int, { description: 'Units on sale now (not held by running orders).' })
  stock(@Root() product: Product): Promise<number> {
    return this.inventory.available(product.sku);
  }
}

@Resolver(() => MemberRef)
export class MemberOrdersResolver {
  constructor(private readonly deps: OrderResolverDeps) {}

  @FieldResolver(() => [Order], { description: 'The member\'s orders, newest first (the member itself or an admin).' })
  async orders(@Root() member: MemberRef, @Ctx() ctx: SubgraphContext, @Arg('limit', () => Int, { nullable: true }) limit: number | null): Promise<Order[]> {
    requireSelfOrAdmin(ctx, member.id);
    return (await this.deps.orders.ordersOf(member.id, clampLimit(limit))).map(toOrder);
  }

  @FieldResolver(() => [Payment], { description: 'The member\'s payments, newest first (the member itself or an admin).' })
  async payments(@Root() member: MemberRef, @Ctx() ctx: SubgraphContext, @Arg('limit', () => Int, { nullable: true }) limit: number | null): Promise<Payment[]> {
    requireSelfOrAdmin(ctx, member.id);
    return (await this.deps.orders.paymentsOf(member.id, clampLimit(limit))).map(toPayment);
  }
}

function clampLimit(limit: number | null): number {
  return Math.min(Math.max(limit ?? 50, 1), 200);
}
