// The payload of `sagaProgress`: the shared update fields, the saga step the event is, and the
// order as it stands (any Order field, and through it any Member field of the graph).
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { EventUpdate, eventTypeDescription } from '../../common/subscription-payload';
import { sagaProgressEventTypes } from '../saga/saga-progress';
import { Order } from './order.type';

export enum SagaStep {
  ORDER = 'order',
  PAYMENT = 'payment',
  INVENTORY = 'inventory',
  SHIPPING = 'shipping',
  REFUND = 'refund',
  RELEASE = 'release',
}
registerEnumType(SagaStep, {
  name: 'SagaStep',
  description: 'A step of the order saga; REFUND and RELEASE are compensation.',
  valuesConfig: {
    ORDER: { description: 'The order itself: placed, completed, failed or cancelled.' },
    PAYMENT: { description: 'Authorising and capturing the payment.' },
    INVENTORY: { description: 'Reserving the stock.' },
    SHIPPING: { description: 'Creating the shipment.' },
    REFUND: { description: 'Giving the money back (compensation).' },
    RELEASE: { description: 'Releasing reserved stock (compensation).' },
  },
});

export enum SagaStepStatus {
  STARTED = 'started',
  REQUESTED = 'requested',
  IN_PROGRESS = 'in_progress',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  COMPENSATED = 'compensated',
}
registerEnumType(SagaStepStatus, {
  name: 'SagaStepStatus',
  description: 'Where a step of the order saga is after an event.',
  valuesConfig: {
    STARTED: { description: 'The saga (the order) started.' },
    REQUESTED: { description: 'The step was asked of its service.' },
    IN_PROGRESS: { description: 'The service is working on it (e.g. a payment authorised, not yet captured).' },
    SUCCEEDED: { description: 'The step succeeded.' },
    FAILED: { description: 'The step failed.' },
    COMPENSATED: { description: 'The step was undone.' },
  },
});

@ObjectType({ description: 'A step of an order saga, pushed by the `sagaProgress` subscription.' })
export class SagaProgress extends EventUpdate {
  @Field({ description: eventTypeDescription('The saga step that happened', sagaProgressEventTypes) })
  override eventType!: string;

  /** Not a field: the key `order` is read by. */
  orderId!: string;
  /** Not a field: the order stream's version after this step, when the step is an event of that stream. */
  orderStreamVersion!: number | null;

  @Field(() => Order, { description: 'The order after this step (its read model).' })
  order!: Order;

  @Field(() => SagaStep, { description: 'The step of the saga this event belongs to.' })
  step!: SagaStep;

  @Field(() => SagaStepStatus, { description: 'Where that step is after this event.' })
  status!: SagaStepStatus;

  @Field({ description: 'True for compensation: refunds, stock releases, cancellation.' })
  compensation!: boolean;

  @Field({ description: 'True on the event that ends the saga (the subscription completes after it).' })
  terminal!: boolean;
}
