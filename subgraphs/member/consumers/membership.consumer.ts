// The seed's Membership Service in the payment flow: an order that bought a membership activates
// (or extends) it on the Member aggregate once the order completes (not at capture, so a refunded
// order never activated anything). The event id comes from the consumer's effect key, so a
// redelivered order.completed cannot extend the membership twice.
import { defineConsumer } from '../../../messaging/consumers/idempotent-consumer';
import { deterministicUuid } from '../../../platform/ids';
import type { MemberService } from '../domain/member-service';

export function membershipConsumer(service: MemberService) {
  return defineConsumer({
    name: 'membership',
    handles: ['order.completed'],
    async handle(event, ctx) {
      if (ctx.replay) return;
      const { memberId, orderId, memberships } = event.payload;
      for (const m of memberships) {
        await service.activate(
          memberId,
          { tier: m.tier, months: m.months, orderId },
          { correlationId: event.correlationId, causationId: event.id, actor: { id: 'membership', role: 'system' } },
          deterministicUuid(ctx.effectKeyFor(m.sku)),
        );
      }
    },
  });
}
