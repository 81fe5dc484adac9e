// `sagaProgress(orderId)`: every step of one order's saga, compensation included, fed by the live
// event feed like memberUpdated. Without a resume cursor it starts at the order's first event, so
// a client subscribing right after createOrder misses nothing; it completes after the final step.
import type { GraphQLSchema } from 'graphql';
import { Arg, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { formatCursor } from '../../../platform/subscription-protocol';
import { ForbiddenError, NotFoundError } from '../../../platform/errors';
import { requireIdentity } from '../../common/context';
import { endAfter, subscribeToEntityEvents, updateFieldsOf, type SubscriptionContext } from '../../common/subscription-payload';
import type { OrderView } from '../domain/read-models';
import { isSagaProgressEvent, progressOf, sagaProgressEventTypes } from '../saga/saga-progress';
import { orderStreamId } from '../saga/order-saga';
import { toOrder } from './order.mapper';
import { Order } from './order.type';
import { SagaProgress, SagaStep, SagaStepStatus } from './saga-progress.type';

export { sagaProgressEventTypes };

/**
 * The order read model per served schema: `subscribe` runs without a resolver instance, so the
 * module registers its collection against the schema it built (several products may share a process).
 */
const ordersBySchema = new WeakMap<GraphQLSchema, DocumentCollection<OrderView>>();

export function registerSagaProgressSource(schema: GraphQLSchema, orders: DocumentCollection<OrderView>): void {
  ordersBySchema.set(schema, orders);
}

@Resolver(() => SagaProgress)
export class SagaProgressResolver {
  constructor(
    private readonly orders: DocumentCollection<OrderView>,
    /** The order as its stream stands now, for when the view has not caught up with a pushed step. */
    private readonly orderFromStream: (orderId: string) => Promise<OrderView | null>,
  ) {}

  @Subscription(() => SagaProgress, {
    description:
      'Every step of an order saga as it happens, compensation included, from the order\'s first event (or after `extensions.cursor`); completes after the final step. Your own orders, or any for admins.',
    subscribe: async ({ args, context, info }) => {
      const ctx = context as SubscriptionContext;
      const orderId = String((args as { orderId: string }).orderId);
      const identity = requireIdentity(ctx);
      const order = await ordersBySchema.get(info.schema)?.get(orderId);
      if (!order) throw new NotFoundError(`No order with id ${orderId}.`, { id: orderId });
      if (identity.role !== 'admin' && identity.sub !== order.memberId) throw new ForbiddenError(`Order ${orderId} belongs to another member.`);
      const subscription = ctx.subscription;
      const withStart: SubscriptionContext =
        subscription && (subscription.cursor === undefined || subscription.cursor === null)
          ? { ...ctx, subscription: { ...subscription, cursor: formatCursor(order.createdPosition - 1) } }
          : ctx;
      return endAfter(
        subscribeToEntityEvents(withStart, sagaProgressEventTypes, (event) => isSagaProgressEvent(event) && event.payload.orderId === orderId, {
          field: 'orderId',
          value: orderId,
        }),
        (event) => isSagaProgressEvent(event) && progressOf(event).terminal,
      );
    },
  })
  sagaProgress(@Root() event: AnyEventEnvelope, @Arg('orderId', () => ID, { description: 'The order whose saga to watch.' }) _orderId: string): SagaProgress {
    if (!isSagaProgressEvent(event)) throw new Error(`sagaProgress got an unexpected ${event.type} event`);
    const progress = progressOf(event);
    return Object.assign(new SagaProgress(), {
      ...updateFieldsOf(event),
      orderId: event.payload.orderId,
      orderStreamVersion: event.streamId === orderStreamId(event.payload.orderId) ? event.streamVersion : null,
      step: progress.step as SagaStep,
      status: progress.status as SagaStepStatus,
      compensation: progress.compensation,
      terminal: progress.terminal,
    });
  }

  @FieldResolver(() => Order)
  async order(@Root() update: SagaProgress): Promise<Order> {
    let view = await this.orders.get(update.orderId);
    // A step of the order's own stream can be pushed before its view is saved: read the stream then.
    if (update.orderStreamVersion !== null && (view?.version ?? 0) < update.orderStreamVersion) view = (await this.orderFromStream(update.orderId)) ?? view;
    if (!view) throw new NotFoundError(`No order with id ${update.orderId}.`, { id: update.orderId });
    return toOrder(view);
  }
}
