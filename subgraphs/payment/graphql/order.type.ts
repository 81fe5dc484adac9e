// Orders and payments as the API shows them; the Member stub lets Order.member and the payment
// fields on Member federate with the member subgraph.
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import { Product } from './product.type';

export enum OrderStatus {
  AWAITING_PAYMENT = 'awaiting_payment',
  RESERVING_STOCK = 'reserving_stock',
  CREATING_SHIPMENT = 'creating_shipment',
  COMPENSATING = 'compensating',
  COMPLETED = 'completed',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}
registerEnumType(OrderStatus, {
  name: 'OrderStatus',
  description: 'Where the order saga is. COMPLETED, FAILED (no money taken) and CANCELLED (refunded) are final.',
  valuesConfig: {
    AWAITING_PAYMENT: { description: 'Placed; the payment is being authorised and captured.' },
    RESERVING_STOCK: { description: 'Paid; the stock is being reserved.' },
    CREATING_SHIPMENT: { description: 'Stock reserved; the shipment is being created.' },
    COMPENSATING: { description: 'A step failed after payment: refunding and releasing stock.' },
    COMPLETED: { description: 'Paid, reserved and shipped.' },
    FAILED: { description: 'Ended without taking money (the payment failed or timed out).' },
    CANCELLED: { description: 'Ended after compensation: refunded, stock released.' },
  },
});

export enum PaymentStatus {
  INITIATED = 'initiated',
  AUTHORIZED = 'authorized',
  COMPLETED = 'completed',
  FAILED = 'failed',
  REFUNDED = 'refunded',
}
registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'Where a payment is. COMPLETED (captured), FAILED (no money taken) and REFUNDED are final.',
  valuesConfig: {
    INITIATED: { description: 'Started; not yet authorised.' },
    AUTHORIZED: { description: 'Authorised by the card issuer; not yet captured.' },
    COMPLETED: { description: 'Captured: the money is taken.' },
    FAILED: { description: 'Declined or cancelled: no money taken (see failureReason).' },
    REFUNDED: { description: 'Captured, then given back.' },
  },
});

export enum PaymentFailureReason {
  CARD_DECLINED = 'card_declined',
  INSUFFICIENT_FUNDS = 'insufficient_funds',
  GATEWAY_UNAVAILABLE = 'gateway_unavailable',
  CANCELLED = 'cancelled',
}
registerEnumType(PaymentFailureReason, {
  name: 'PaymentFailureReason',
  description: 'Why a payment failed.',
  valuesConfig: {
    CARD_DECLINED: { description: 'The card issuer declined it.' },
    INSUFFICIENT_FUNDS: { description: 'Not enough funds on the card.' },
    GATEWAY_UNAVAILABLE: { description: 'The card processor could not be reached, after retries.' },
    CANCELLED: { description: 'The payment was cancelled before it was captured (the order was compensated).' },
  },
});

/** The member, as far as this subgraph knows it: its key. Other fields come from the member subgraph. */
@Directive('@key(fields: "id")')
@ObjectType('Member')
export class MemberRef {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'One line of an order.' })
export class OrderItem {
  @Field(() => ID, { description: 'The product ordered, by SKU.' })
  sku!: string;

  @Field(() => Int, { description: 'Units ordered.' })
  quantity!: number;

  @Field(() => Int, { description: 'Price of one unit when ordered, in cents.' })
  unitPriceCents!: number;

  @Field(() => Product, { nullable: true, description: 'The product (null if it left the catalogue).' })
  product!: Product | null;
}

@ObjectType({ description: 'A payment of an order, through the card processor.' })
export class Payment {
  @Field(() => ID, { description: 'Unique id of the payment.' })
  id!: string;

  @Field(() => ID, { description: 'The order it pays.' })
  orderId!: string;

  @Field(() => ID, { description: 'The member who pays.' })
  memberId!: string;

  @Field(() => PaymentStatus, { description: 'Where the payment is.' })
  status!: PaymentStatus;

  @Field(() => Int, { description: 'Amount in minor units (cents).' })
  amountCents!: number;

  @Field({ description: 'ISO 4217 currency code.' })
  currency!: string;

  @Field({ description: 'The card network, as the processor reports it (e.g. visa).' })
  cardBrand!: string;

  @Field({ description: 'Last four digits of the card.' })
  cardLast4!: string;

  @Field(() => PaymentFailureReason, { nullable: true, description: 'Why the payment failed; null unless FAILED.' })
  failureReason!: PaymentFailureReason | null;

  @Field(() => Int, { nullable: true, description: 'Cents given back (0 when the payment was cancelled before capture).' })
  refundedCents!: number | null;

  @Field(() => Date, { description: 'When the payment was initiated.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When it last changed.' })
  updatedAt!: Date;
}

@ObjectType({ description: 'An order and where its saga is.' })
export class Order {
  @Field(() => ID, { description: 'Unique id of the order.' })
  id!: string;

  @Field(() => ID, { description: 'The member who ordered.' })
  memberId!: string;

  @Field(() => MemberRef, { description: 'The member who ordered (any Member field of the graph).' })
  member!: MemberRef;

  @Field(() => OrderStatus, { description: 'Where the order saga is.' })
  status!: OrderStatus;

  @Field(() => [OrderItem], { description: 'What was ordered.' })
  items!: OrderItem[];

  @Field(() => Int, { description: 'Total in minor units (cents).' })
  totalCents!: number;

  @Field({ description: 'ISO 4217 currency code.' })
  currency!: string;

  @Field(() => ID, { description: 'Its payment (see `payment`).' })
  paymentId!: string;

  @Field(() => Payment, { nullable: true, description: 'Its payment; null until the payment service has recorded it.' })
  payment!: Payment | null;

  @Field(() => String, { nullable: true, description: 'Set once the shipment exists and the order completed.' })
  trackingNumber!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the order failed or was cancelled, in words (e.g. "payment failed: card_declined"); see its payment for the coded reason.' })
  failureReason!: string | null;

  @Field(() => Int, { nullable: true, description: 'Cents refunded when the order was cancelled.' })
  refundedCents!: number | null;

  @Field(() => Date, { nullable: true, description: 'When the current step times out if the workers run until then; a stop of the workers moves it later by its length (null once final).' })
  stepDeadlineAt!: Date | null;

  @Field(() => Date, { description: 'When the order was placed.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When it last changed.' })
  updatedAt!: Date;
}

@ObjectType({ description: 'A page of orders, newest first.' })
export class OrderConnection extends ConnectionOf(Order, 'Order', 'order') {}

@ObjectType({ description: 'A page of payments, newest first.' })
export class PaymentConnection extends ConnectionOf(Payment, 'Payment', 'payment') {}

@ObjectType({ description: 'Balance of one ledger account: debits minus credits, in cents.' })
export class LedgerAccount {
  @Field(() => ID, { description: 'Unique id: the account name.' })
  get id(): string {
    return this.account;
  }

  @Field({ description: 'The account, e.g. income:sales.' })
  account!: string;

  @Field(() => Int, { description: 'Debits minus credits, in cents.' })
  balanceCents!: number;
}

@ObjectType({ description: 'The double-entry ledger (admins).' })
export class Ledger {
  @Field(() => [LedgerAccount], { description: 'Every account with its balance.' })
  accounts!: LedgerAccount[];

  @Field(() => Int, { description: 'Sum of every balance: always 0 in a double-entry ledger.' })
  totalCents!: number;

  @Field(() => Int, { description: 'Transactions posted so far.' })
  transactionCount!: number;
}
