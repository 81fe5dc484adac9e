// The Member entity, owned by this subgraph; the other subgraphs contribute fields to it.
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum MemberTier {
  BASIC = 'basic',
  PREMIUM = 'premium',
  VIP = 'vip',
}
registerEnumType(MemberTier, { name: 'MemberTier' });

export enum MembershipStatus {
  NONE = 'none',
  ACTIVE = 'active',
  EXPIRED = 'expired',
}
registerEnumType(MembershipStatus, {
  name: 'MembershipStatus',
  description: 'NONE before the first renewal or paid activation; ACTIVE until it expires; then EXPIRED.',
});

@Directive('@key(fields: "id")')
@ObjectType({ description: 'A member of the organisation.' })
export class Member {
  @Field(() => ID)
  id!: string;

  @Field()
  email!: string;

  @Field()
  firstName!: string;

  @Field()
  lastName!: string;

  @Field(() => MemberTier)
  tier!: MemberTier;

  @Field(() => MembershipStatus)
  membershipStatus!: MembershipStatus;

  @Field(() => Date, { nullable: true })
  membershipExpiresAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Int, { description: 'Version of the member\'s event stream: pass it as expectedVersion to change the member.' })
  version!: number;
}
