// The checkout and order/payment queries. createOrder answers as soon as the saga started (the
// order is AWAITING_PAYMENT); follow it with `order(id)` or the `sagaProgress` subscription.
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import { causationOf, idempotencyKeyOf, requireAdmin, requireIdentity, requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { Inventory } from '../domain/inventory';
import type { Ledger as LedgerService } from '../domain/ledger';
import type { OrderService } from '../domain/order-service';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { newestFirst, type OrderView, type PaymentView } from '../domain/read-models';
import { CreateOrderInput } from './order.inputs';
import { toOrder, toPayment } from './order.mapper';
import { Ledger, LedgerAccount, MemberRef, Order, OrderConnection, Payment, PaymentConnection } from './order.type';
import { Product } from './product.type';
import { toProduct } from './product.resolver';
import { findProduct } from '../domain/product-catalog';
import { NotFoundError } from '../../../platform/errors';
import { loadDocument } from '../../common/request-loaders';

export interface OrderResolverDeps {
  readonly orders: OrderService;
  readonly ledger: LedgerService;
  readonly inventory: Inventory;
  /** The read models the lists page through. */
  readonly orderViews: DocumentCollection<OrderView>;
  readonly paymentViews: DocumentCollection<PaymentView>;
}

/** A member's orders, or everyone's (memberId null), as a connection (read with the request's other pages when `batchIn` is given). */
function pageOrders(deps: OrderResolverDeps, memberId: string | null, args: ConnectionArgs, batchIn?: object): Promise<OrderConnection> {
  const where = memberId === null ? {} : { memberId };
  return pageDocuments(OrderConnection, deps.orderViews, { list: 'orders', where, orderBy: newestFirst, ...(batchIn ? { batchIn } : {}) }, args, toOrder);
}

@Resolver(() => Order)
export class OrderResolver {
  constructor(private readonly deps: OrderResolverDeps) {}

  @Mutation(() => Order, {
    description:
      'Place an order: validates items, member and card, starts the order saga and answers at once (AWAITING_PAYMENT). Unknown sku, quantity < 1, bad card data: BAD_USER_INPUT; no such member: NOT_FOUND; nothing stored. With an idempotency key (input field or Idempotency-Key header) a repeat answers the first order; the same key with another request: CONFLICT.',
  })
  async createOrder(@Arg('input', () => CreateOrderInput, { description: 'What to order and how to pay.' }) input: CreateOrderInput, @Ctx() ctx: SubgraphContext): Promise<Order> {
    const identity = requireIdentity(ctx);
    const { idempotencyKey, ...order } = input;
    const view = await this.deps.orders.create(identity, order, causationOf(ctx), idempotencyKeyOf(ctx, idempotencyKey));
    return toOrder(view);
  }

  @Query(() => Order, { nullable: true, description: "An order by id (yours, or anyone's for admins); null when unknown. Someone else's order: FORBIDDEN." })
  async order(@Arg('id', () => ID, { description: 'The order id.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Order | null> {
    const view = await this.deps.orders.get(requireIdentity(ctx), id);
    return view ? toOrder(view) : null;
  }

  @Query(() => OrderConnection, {
    description: "Orders, newest first: yours (memberId defaults to you); admins any member's, or everyone's without memberId.",
  })
  async orders(
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('memberId', () => ID, { nullable: true, description: 'Whose orders: yourself by default.' }) memberId: string | null,
  ): Promise<OrderConnection> {
    const identity = requireIdentity(ctx);
    const whose = memberId ?? (identity.role === 'admin' ? null : identity.sub);
    if (whose !== null) requireSelfOrAdmin(ctx, whose);
    return pageOrders(this.deps, whose, page);
  }

  @Query(() => Payment, { nullable: true, description: "A payment by id (yours, or anyone's for admins); null when unknown. Someone else's payment: FORBIDDEN." })
  async payment(@Arg('id', () => ID, { description: 'The payment id.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Payment | null> {
    const view = await this.deps.orders.getPayment(requireIdentity(ctx), id);
    return view ? toPayment(view) : null;
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
    @Arg('sku', () => ID, { description: 'The product, by SKU.' }) sku: string,
    @Arg('available', () => Int, { description: 'Units on sale from now on (0 or more).' }) available: number,
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
  async payment(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<Payment | null> {
    const view = await loadDocument(ctx, this.payments, order.paymentId);
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

  @FieldResolver(() => OrderConnection, { description: "The member's orders, newest first (the member itself or an admin)." })
  async orders(@Root() member: MemberRef, @Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<OrderConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageOrders(this.deps, member.id, page, ctx);
  }

  @FieldResolver(() => PaymentConnection, { description: "The member's payments, newest first (the member itself or an admin)." })
  async payments(@Root() member: MemberRef, @Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<PaymentConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(PaymentConnection, this.deps.paymentViews, { list: 'payments', where: { memberId: member.id }, orderBy: newestFirst, batchIn: ctx }, page, toPayment);
  }
}
