// The Member entity, owned by this subgraph; the other subgraphs contribute fields to it.
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum MemberTier {
  BASIC = 'basic',
  PREMIUM = 'premium',
  VIP = 'vip',
}
registerEnumType(MemberTier, {
  name: 'MemberTier',
  description: 'The level of a membership: what it costs and what it gives.',
  valuesConfig: {
    BASIC: { description: 'The basic membership (the default).' },
    PREMIUM: { description: 'The premium membership.' },
    VIP: { description: 'The VIP membership.' },
  },
});

export enum MembershipStatus {
  NONE = 'none',
  ACTIVE = 'active',
  EXPIRED = 'expired',
}
registerEnumType(MembershipStatus, {
  name: 'MembershipStatus',
  description: 'NONE before the first renewal or paid activation; ACTIVE until it expires; then EXPIRED.',
  valuesConfig: {
    NONE: { description: 'Never renewed nor paid for.' },
    ACTIVE: { description: 'Paid until membershipExpiresAt, which is still ahead.' },
    EXPIRED: { description: 'membershipExpiresAt has passed.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType({ description: 'A member of the organisation.' })
export class Member {
  @Field(() => ID, { description: 'Unique id of the member (the subject of its token).' })
  id!: string;

  @Field({ description: 'Email address, unique among members.' })
  email!: string;

  @Field({ description: 'First name.' })
  firstName!: string;

  @Field({ description: 'Last name.' })
  lastName!: string;

  @Field(() => MemberTier, { description: 'Membership tier.' })
  tier!: MemberTier;

  @Field(() => MembershipStatus, { description: 'Whether the membership runs: NONE, ACTIVE or EXPIRED.' })
  membershipStatus!: MembershipStatus;

  @Field(() => Date, { nullable: true, description: 'When the paid membership ends; null before the first.' })
  membershipExpiresAt!: Date | null;

  @Field(() => Date, { description: 'When the member registered.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When the member last changed.' })
  updatedAt!: Date;

  @Field(() => Int, { description: 'Version of the member\'s event stream: pass it as expectedVersion to change the member.' })
  version!: number;
}
