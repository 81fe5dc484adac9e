// `memberUpdated(id)`: pushes every change of one member, fed by the member events from the live
// feed (and from the store when the client resumes with a cursor). A member may watch itself only.
import { Arg, Ctx, FieldResolver, ID, Info, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { requireSelfOrAdmin } from '../../common/context';
import {
  resolveEntityReference,
  subscribeToEntityEvents,
  updateFieldsOf,
  type SubscriptionContext,
} from '../../common/subscription-payload';
import { Member } from './member.type';
import { MemberUpdate, memberUpdateEventTypes } from './member-update.type';

export { memberUpdateEventTypes };

type MemberUpdateEvent = Extract<AnyEventEnvelope, { type: (typeof memberUpdateEventTypes)[number] }>;

function isMemberUpdateEvent(event: AnyEventEnvelope): event is MemberUpdateEvent {
  return (memberUpdateEventTypes as readonly string[]).includes(event.type);
}

@Resolver(() => MemberUpdate)
export class MemberUpdateResolver {
  @Subscription(() => MemberUpdate, {
    description:
      'Every change of one member, as it happens. Pass the last `cursor` you saw as `extensions.cursor` of the subscribe message to first get what you missed. A member may watch itself only; an admin anyone.',
    subscribe: ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      const id = String((args as { id: string }).id);
      requireSelfOrAdmin(ctx, id);
      return subscribeToEntityEvents(ctx, memberUpdateEventTypes, (event) => isMemberUpdateEvent(event) && event.payload.memberId === id, {
        field: 'memberId',
        value: id,
      });
    },
  })
  memberUpdated(@Root() event: AnyEventEnvelope, @Arg('id', () => ID, { description: 'The member to watch.' }) _id: string): MemberUpdate {
    if (!isMemberUpdateEvent(event)) throw new Error(`memberUpdated got an unexpected ${event.type} event`);
    return Object.assign(new MemberUpdate(), { ...updateFieldsOf(event), memberId: event.payload.memberId, streamVersion: event.streamVersion });
  }

  @FieldResolver(() => Member)
  member(@Root() update: MemberUpdate, @Ctx() ctx: SubscriptionContext, @Info() info: GraphQLResolveInfo): Promise<unknown> {
    // At least as of this event: the read model may not have applied it yet.
    return resolveEntityReference(info, 'Member', { id: update.memberId, atLeastVersion: update.streamVersion }, ctx);
  }
}
