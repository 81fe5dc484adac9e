// The seed's Membership Service in the payment flow: an order that bought a membership activates
// (or extends) it on the Member aggregate once the order completes (not at capture, so a refunded
// order never activated anything). The event id comes from the consumer's effect key, so a
// redelivered order.completed cannot extend the membership twice. When the membership cannot be
// activated for good (no such member), it says so with membership.activation.failed instead of
// dead-lettering: the order saga then refunds the order rather than keep money for nothing.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { EventStore } from '../../../messaging/store/event-store';
import { isDomainError, type ErrorCode } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import type { MemberService } from '../domain/member-service';

/** Refusals of the Member aggregate that no retry can change. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NOT_FOUND', 'BAD_USER_INPUT', 'INVALID_TRANSITION']);

export function membershipActivationStreamId(orderId: string): string {
  return `membership-activation-${orderId}`;
}

export function membershipConsumer(service: MemberService, store: EventStore) {
  return defineConsumer({
    name: 'membership',
    handles: ['order.completed'],
    async handle(event, ctx) {
      if (ctx.replay) return;
      const { memberId, orderId, memberships } = event.payload;
      const context = { correlationId: event.correlationId, causationId: event.id, actor: { id: 'membership', role: 'system' as const } };
      for (const m of memberships) {
        try {
          await service.activate(memberId, { tier: m.tier, months: m.months, orderId }, context, deterministicUuid(ctx.effectKeyFor(m.sku)));
        } catch (error) {
          if (!isDomainError(error) || !PERMANENT.has(error.code)) throw error;
          ctx.logger.warn({ err: error, orderId, memberId }, 'membership cannot be activated: the order will be refunded');
          await store.append(
            membershipActivationStreamId(orderId),
            [
              {
                id: deterministicUuid(ctx.effectKeyFor(`${m.sku}:failed`)),
                type: 'membership.activation.failed',
                payload: { memberId, orderId, sku: m.sku, reason: `${error.code}: ${error.message}`.slice(0, 500) },
              },
            ],
            { expectedVersion: 'any', context },
          );
        }
      }
    },
  });
}
