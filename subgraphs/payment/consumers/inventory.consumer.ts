// The inventory service on the bus: reserve and release for the saga, and bookkeeping once an
// order completes. Outcome events have ids derived from the order, one per outcome type, and the
// reservation record keeps the first outcome, so a repeated command announces the same result.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { EventStore } from '../../../messaging/store/event-store';
import { deterministicUuid } from '../../../platform/ids';
import { inventoryStreamId, type Inventory } from '../domain/inventory';
import { causedBy } from '../domain/payment-service';

export function inventoryConsumer(deps: { inventory: Inventory; store: EventStore }) {
  const { inventory, store } = deps;
  return defineConsumer({
    name: 'inventory',
    handles: ['inventory.reserve', 'inventory.release', 'order.completed'],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event, ctx) {
      if (ctx.replay) return;
      const orderId = event.payload.orderId;
      const stream = inventoryStreamId(orderId);
      const context = causedBy(event, 'inventory');
      switch (event.type) {
        case 'inventory.reserve': {
          const outcome = await inventory.reserve(orderId, event.payload.items);
          await store.append(
            stream,
            [
              outcome.ok
                ? { id: deterministicUuid(`inventory.reserved:${orderId}`), type: 'inventory.reserved', payload: { orderId, items: event.payload.items } }
                : { id: deterministicUuid(`inventory.failed:${orderId}`), type: 'inventory.failed', payload: { orderId, reason: outcome.reason, sku: outcome.sku } },
            ],
            { expectedVersion: 'any', context },
          );
          return;
        }
        case 'inventory.release': {
          const released = await inventory.release(orderId, event.payload.items);
          await store.append(
            stream,
            [{ id: deterministicUuid(`inventory.released:${orderId}`), type: 'inventory.released', payload: { orderId, items: released } }],
            { expectedVersion: 'any', context },
          );
          return;
        }
        case 'order.completed': {
          const order = await store.readStream(`order-${orderId}`, 1);
          const created = order.find((e) => e.type === 'order.created');
          if (created?.type === 'order.created') await inventory.commit(orderId, created.payload.items);
          return;
        }
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
    },
  });
}
