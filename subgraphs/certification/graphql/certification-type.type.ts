// A type of professional certification members can apply for.
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

@Directive('@key(fields: "code")')
@ObjectType({ description: 'A kind of certification, with its validity and renewal terms.' })
export class CertificationType {
  @Field(() => ID)
  code!: string;

  @Field()
  name!: string;

  @Field(() => Int)
  validityMonths!: number;

  @Field(() => Int, { description: 'Renewal fee in minor units (cents).' })
  renewalFeeCents!: number;

  @Field(() => Int, { description: 'Days before expiry from which a certification is "expiring soon".' })
  expiringSoonDays!: number;
}
