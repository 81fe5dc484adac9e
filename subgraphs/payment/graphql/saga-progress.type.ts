// The payload of `sagaProgress`: the shared update fields, the saga step the event is, and the
// order as it stands (any Order field, and through it any Member field of the graph).
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { EventUpdate } from '../../common/subscription-payload';
import { Order } from './order.type';

export enum SagaStep {
  ORDER = 'order',
  PAYMENT = 'payment',
  INVENTORY = 'inventory',
  SHIPPING = 'shipping',
  REFUND = 'refund',
  RELEASE = 'release',
}
registerEnumType(SagaStep, { name: 'SagaStep', description: 'A step of the order saga; REFUND and RELEASE are compensation.' });

export enum SagaStepStatus {
  STARTED = 'started',
  REQUESTED = 'requested',
  IN_PROGRESS = 'in_progress',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  COMPENSATED = 'compensated',
}
registerEnumType(SagaStepStatus, { name: 'SagaStepStatus' });

@ObjectType({ description: 'A step of an order saga, pushed by the `sagaProgress` subscription.' })
export class SagaProgress extends EventUpdate {
  /** Not a field: the key `order` is read by. */
  orderId!: string;
  /** Not a field: the order stream's version after this step, when the step is an event of that stream. */
  orderStreamVersion!: number | null;

  @Field(() => Order, { description: 'The order after this step (its read model).' })
  order!: Order;

  @Field(() => SagaStep)
  step!: SagaStep;

  @Field(() => SagaStepStatus)
  status!: SagaStepStatus;

  @Field({ description: 'True for compensation: refunds, stock releases, cancellation.' })
  compensation!: boolean;

  @Field({ description: 'True on the event that ends the saga (the subscription completes after it).' })
  terminal!: boolean;
}
