// The payment service on the bus: charges on payment.initiated, refunds on payment.refund.
// A replayed delivery never calls the gateway (money moves live only).
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { PaymentService } from '../domain/payment-service';

export function paymentConsumer(service: PaymentService) {
  return defineConsumer({
    name: 'payment-service',
    handles: ['payment.initiated', 'payment.refund'],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event, ctx) {
      if (ctx.replay) return;
      if (event.type === 'payment.initiated') await service.process(event);
      else await service.refund(event);
    },
  });
}
