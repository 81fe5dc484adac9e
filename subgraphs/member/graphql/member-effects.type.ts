// What the seed's asynchronous services did for a member, as the graph shows it.
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One field change recorded by the audit log.' })
export class AuditChange {
  @Field()
  field!: string;

  @Field(() => String, { nullable: true })
  before!: string | null;

  @Field(() => String, { nullable: true })
  after!: string | null;
}

@ObjectType({ description: 'An audit log entry: who changed what, when.' })
export class AuditEntry {
  @Field(() => ID)
  eventId!: string;

  @Field()
  eventType!: string;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field(() => String, { nullable: true })
  actorRole!: string | null;

  @Field()
  correlationId!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => [AuditChange])
  changes!: AuditChange[];
}

@ObjectType({ description: "The CRM's contact record of the member, as last synchronised." })
export class CrmSync {
  @Field()
  email!: string;

  @Field()
  firstName!: string;

  @Field()
  lastName!: string;

  @Field()
  tier!: string;

  @Field(() => Int, { description: 'Member version the contact reflects.' })
  version!: number;

  @Field(() => Date)
  syncedAt!: Date;

  @Field({ description: 'True when the contact reflects the latest member version.' })
  upToDate!: boolean;
}

@ObjectType({ description: 'A confirmation email sent to the member.' })
export class SentEmail {
  @Field()
  to!: string;

  @Field()
  subject!: string;

  @Field()
  text!: string;

  @Field({ description: '`smtp` or `mailbox` (the local mailbox when no SMTP server is configured).' })
  transport!: string;

  @Field(() => Date)
  sentAt!: Date;

  @Field()
  sourceEventType!: string;
}
