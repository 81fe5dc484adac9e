// The seed's Notification service: tells the member about each payment outcome (an entry in the
// member's notification list, keyed by the consumer's effect key so a redelivery sends nothing),
// then announces notification.sent. Replays notify nobody.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { EventStore } from '../../../messaging/store/event-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { causedBy } from '../domain/payment-service';

export interface NotificationDoc {
  readonly id: string;
  readonly memberId: string;
  readonly orderId: string;
  readonly template: 'payment_received' | 'payment_failed' | 'payment_refunded';
  readonly text: string;
  readonly sentAt: string;
  readonly sourceEventId: string;
}

export function notificationsCollection(documents: DocumentStore): DocumentCollection<NotificationDoc> {
  return documents.collection<NotificationDoc>('payment_notifications', { indexes: ['memberId', 'orderId'] });
}

const euros = (cents: number) => `EUR ${(cents / 100).toFixed(2)}`;

export function notificationConsumer(deps: { documents: DocumentStore; store: EventStore; clock: Clock }) {
  const notifications = notificationsCollection(deps.documents);
  return defineConsumer({
    name: 'notification',
    handles: ['payment.completed', 'payment.failed', 'payment.refunded'],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event, ctx) {
      if (ctx.replay) return;
      const p = event.payload;
      let template: NotificationDoc['template'];
      let text: string;
      switch (event.type) {
        case 'payment.completed':
          template = 'payment_received';
          text = `We received your payment of ${euros(event.payload.amountCents)} for order ${p.orderId}.`;
          break;
        case 'payment.failed':
          template = 'payment_failed';
          text = `Your payment for order ${p.orderId} did not go through (${event.payload.reason}).`;
          break;
        case 'payment.refunded':
          if (event.payload.amountCents === 0) return; // nothing was taken: nothing to tell
          template = 'payment_refunded';
          text = `We refunded ${euros(event.payload.amountCents)} for order ${p.orderId}.`;
          break;
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
      await notifications.insert({ id: ctx.effectKey, memberId: p.memberId, orderId: p.orderId, template, text, sentAt: deps.clock.now().toISOString(), sourceEventId: event.id });
      await deps.store.append(
        `notification-${p.memberId}`,
        [{ id: deterministicUuid(ctx.effectKey), type: 'notification.sent', payload: { memberId: p.memberId, orderId: p.orderId, channel: 'email', template, sourceEventId: event.id } }],
        { expectedVersion: 'any', context: causedBy(event, 'notification') },
      );
    },
  });
}
