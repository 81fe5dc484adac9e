// The order a sagaProgress update carries is the order after that step even when the step (an
// event of the order's own stream) is pushed before the order view is saved.
import { createDocumentStore } from '../../messaging/state/create-document-store';
import type { OrderView } from '../../subgraphs/payment/domain/read-models';
import { SagaProgressResolver } from '../../subgraphs/payment/graphql/saga-progress.resolver';
import { SagaProgress } from '../../subgraphs/payment/graphql/saga-progress.type';
import { toOrder } from '../../subgraphs/payment/graphql/order.mapper';

const view = (version: number, status: OrderView['status']): OrderView => ({
  id: 'o1',
  memberId: 'm1',
  status,
  items: [{ sku: 'COURSE-ETHICS', quantity: 1, unitPriceCents: 4900, name: 'Ethics' } as never],
  totalCents: 4900,
  currency: 'EUR',
  paymentId: 'p1',
  trackingNumber: null,
  failureReason: null,
  refundedCents: null,
  createdAt: '2025-03-01T10:00:00.000Z',
  updatedAt: '2025-03-01T10:00:00.000Z',
  version,
  open: status !== 'completed',
  deadlineAt: null,
  correlationId: 'c',
  createdPosition: 1,
});

const update = (orderStreamVersion: number | null) => Object.assign(new SagaProgress(), { orderId: 'o1', orderStreamVersion });

describe('sagaProgress order', () => {
  it('reads the order stream when the view is behind the pushed step of that stream, and the view otherwise', async () => {
    const orders = createDocumentStore({ kind: 'memory' }).collection<OrderView>('payment_orders');
    await orders.put(view(3, 'shipping' as OrderView['status']));
    const fromStream = jest.fn(async () => view(4, 'completed' as OrderView['status']));
    const resolver = new SagaProgressResolver(orders, fromStream);

    expect(await resolver.order(update(4))).toEqual(toOrder(view(4, 'completed' as OrderView['status'])));
    expect(fromStream).toHaveBeenCalledTimes(1);

    fromStream.mockClear();
    const stored = toOrder(view(3, 'shipping' as OrderView['status']));
    expect(await resolver.order(update(3))).toEqual(stored); // the view has it
    expect(await resolver.order(update(null))).toEqual(stored); // a step of another stream (payment, inventory)
    expect(fromStream).not.toHaveBeenCalled();
  });
});
