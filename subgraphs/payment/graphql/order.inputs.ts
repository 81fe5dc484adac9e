// Inputs of the checkout.
import { Field, ID, InputType, Int } from 'type-graphql';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';

@InputType({ description: 'One line of an order: a product and a quantity.' })
export class OrderItemInput {
  @Field(() => ID, { description: 'The product, by SKU (see `products`).' })
  sku!: string;

  @Field(() => Int, { description: 'From 1 to 100; at most 100 of one sku per order, however many lines it is split over.' })
  quantity!: number;
}

@InputType({ description: 'Card data; only a token, the brand and the last 4 digits are kept.' })
export class CardInput {
  @Field({ description: 'Test cards: 4242424242424242 (success), 4000000000000002 (declined), 4000000000009995 (insufficient funds), 4000000000000119 (network errors, retried).' })
  number!: string;

  @Field(() => Int, { description: 'Expiry month, 1 to 12.' })
  expMonth!: number;

  @Field(() => Int, { description: 'Expiry year, four digits.' })
  expYear!: number;

  @Field({ description: 'The 3 or 4 digit security code (never stored).' })
  cvc!: string;

  @Field(() => String, { nullable: true, description: 'The name on the card.' })
  holderName?: string | null;
}

@InputType({ description: 'An order: for whom, what, and the card to pay with.' })
export class CreateOrderInput {
  @Field(() => ID, { nullable: true, description: 'Admins may order for a member; members order for themselves.' })
  memberId?: string | null;

  @Field(() => [OrderItemInput], { description: 'What to buy: at least one line.' })
  items!: OrderItemInput[];

  @Field(() => CardInput, { description: 'The card to pay with.' })
  card!: CardInput;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}
