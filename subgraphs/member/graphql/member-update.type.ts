// The payload of `memberUpdated`: what happened to a member (event type, time, cursor) and the
// member itself, resolved by reference so a client may select any Member field of the supergraph.
import { Field, ObjectType } from 'type-graphql';
import type { EventType } from '../../../messaging/events/catalog';
import { EventUpdate, eventTypeDescription } from '../../common/subscription-payload';
import { Member } from './member.type';

/** The member events that change what `memberUpdated` shows. */
export const memberUpdateEventTypes = [
  'member.created',
  'member.profile.updated',
  'membership.renewed',
  'membership.activated',
] as const satisfies readonly EventType[];

@ObjectType({ description: 'A change to a member, pushed by the `memberUpdated` subscription.' })
export class MemberUpdate extends EventUpdate {
  @Field({ description: eventTypeDescription('What happened to the member', memberUpdateEventTypes) })
  override eventType!: string;

  /** Not a field: the key the `member` field resolves by reference. */
  memberId!: string;
  /** Not a field: the member's stream version after this change (the member is shown at least as of it). */
  streamVersion!: number;

  @Field(() => Member, { description: 'The member after the change.' })
  member!: Member;
}
