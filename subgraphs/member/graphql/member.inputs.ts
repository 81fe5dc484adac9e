// Inputs of the member mutations. Validation lives in the domain, so errors name fields uniformly.
import { Field, ID, InputType, Int } from 'type-graphql';
import { MemberTier } from './member.type';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';

@InputType({ description: 'A new member: its profile and, optionally, its id and tier.' })
export class CreateMemberInput {
  @Field(() => ID, { nullable: true, description: 'Admins may choose the id; a member registers under its own token subject.' })
  id?: string | null;

  @Field({ description: 'Email address, unique among members.' })
  email!: string;

  @Field({ description: 'First name.' })
  firstName!: string;

  @Field({ description: 'Last name.' })
  lastName!: string;

  @Field(() => MemberTier, { nullable: true, description: 'BASIC when absent; only admins set a higher tier here (members order one).' })
  tier?: MemberTier | null;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Only the fields given change.' })
export class UpdateMemberProfileInput {
  @Field(() => String, { nullable: true, description: 'A new email address (unique among members).' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'A new first name.' })
  firstName?: string | null;

  @Field(() => String, { nullable: true, description: 'A new last name.' })
  lastName?: string | null;
}

@InputType({ description: 'How long to renew a membership for, and optionally a new tier.' })
export class RenewMembershipInput {
  @Field(() => Int, { defaultValue: 12, description: 'From 1 to 36.' })
  months!: number;

  @Field(() => MemberTier, { nullable: true, description: 'Change tier on renewal; keeps the current one when absent.' })
  tier?: MemberTier | null;
}
