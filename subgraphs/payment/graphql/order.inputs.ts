// Inputs of the checkout.
import { Field, ID, InputType, Int } from 'type-graphql';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';

@InputType()
export class OrderItemInput {
  @Field(() => ID)
  sku!: string;

  @Field(() => Int, { description: 'From 1 to 100; at most 100 of one sku per order, however many lines it is split over.' })
  quantity!: number;
}

@InputType({ description: 'Card data; only a token, the brand and the last 4 digits are kept.' })
export class CardInput {
  @Field({ description: 'Test cards: 4242424242424242 (success), 4000000000000002 (declined), 4000000000009995 (insufficient funds), 4000000000000119 (network errors, retried).' })
  number!: string;

  @Field(() => Int)
  expMonth!: number;

  @Field(() => Int)
  expYear!: number;

  @Field()
  cvc!: string;

  @Field(() => String, { nullable: true })
  holderName?: string | null;
}

@InputType()
export class CreateOrderInput {
  @Field(() => ID, { nullable: true, description: 'Admins may order for a member; members order for themselves.' })
  memberId?: string | null;

  @Field(() => [OrderItemInput])
  items!: OrderItemInput[];

  @Field(() => CardInput)
  card!: CardInput;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}
