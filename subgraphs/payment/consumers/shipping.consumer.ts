// The shipping service on the bus: one shipment per order, announced with its tracking number.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { EventStore } from '../../../messaging/store/event-store';
import { deterministicUuid } from '../../../platform/ids';
import { causedBy } from '../domain/payment-service';
import { shipmentStreamId, type Shipping } from '../domain/shipping';

export function shippingConsumer(deps: { shipping: Shipping; store: EventStore }) {
  return defineConsumer({
    name: 'shipping',
    handles: ['shipping.create'],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event, ctx) {
      if (ctx.replay) return;
      const { orderId, memberId, items } = event.payload;
      const shipment = await deps.shipping.create(orderId, memberId, items);
      await deps.store.append(
        shipmentStreamId(orderId),
        [
          {
            id: deterministicUuid(`shipment.created:${orderId}`),
            type: 'shipment.created',
            payload: { orderId, memberId, shipmentId: shipment.shipmentId, trackingNumber: shipment.trackingNumber, carrier: shipment.carrier },
          },
        ],
        { expectedVersion: 'any', context: causedBy(event, 'shipping') },
      );
    },
  });
}
