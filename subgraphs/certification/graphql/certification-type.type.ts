// A type of professional certification members can apply for.
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

@Directive('@key(fields: "code")')
@ObjectType({ description: 'A kind of certification, with its validity and renewal terms.' })
export class CertificationType {
  @Field(() => ID, { description: 'Unique id of the type (its code), so caches know it without configuration.' })
  get id(): string {
    return this.code;
  }

  @Field(() => ID, { description: 'The code applications name the type by, e.g. CPA.' })
  code!: string;

  @Field({ description: 'Its full name.' })
  name!: string;

  @Field(() => Int, { description: 'How long a certificate is valid, and how far a renewal moves the expiry.' })
  validityMonths!: number;

  @Field(() => Int, { description: 'Renewal fee in minor units (cents).' })
  renewalFeeCents!: number;

  @Field(() => Int, { description: 'Days before expiry from which a certification is "expiring soon".' })
  expiringSoonDays!: number;
}
