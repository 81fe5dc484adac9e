// What the seed's asynchronous services did for a member, as the graph shows it.
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Role } from '../../common/role';
import { MemberTier } from './member.type';

export enum MemberField {
  EMAIL = 'email',
  FIRST_NAME = 'firstName',
  LAST_NAME = 'lastName',
  TIER = 'tier',
  MEMBERSHIP_EXPIRES_AT = 'membershipExpiresAt',
}
registerEnumType(MemberField, {
  name: 'MemberField',
  description: 'A field of Member the audit log records changes of.',
  valuesConfig: {
    EMAIL: { description: 'Member.email.' },
    FIRST_NAME: { description: 'Member.firstName.' },
    LAST_NAME: { description: 'Member.lastName.' },
    TIER: { description: 'Member.tier (values as MemberTier: BASIC, PREMIUM, VIP).' },
    MEMBERSHIP_EXPIRES_AT: { description: 'Member.membershipExpiresAt (an ISO-8601 instant).' },
  },
});

export enum EmailTransport {
  SMTP = 'smtp',
  MAILBOX = 'mailbox',
}
registerEnumType(EmailTransport, {
  name: 'EmailTransport',
  description: 'How a confirmation email left.',
  valuesConfig: {
    SMTP: { description: 'Through the configured SMTP server.' },
    MAILBOX: { description: 'Into the local mailbox (no SMTP server configured): it is only readable here.' },
  },
});

@ObjectType({ description: 'One field change recorded by the audit log.' })
export class AuditChange {
  @Field(() => MemberField, { description: 'The member field that changed.' })
  field!: MemberField;

  @Field(() => String, { nullable: true, description: "Its value before, as the API shows it (a tier as BASIC); null when it had none." })
  before!: string | null;

  @Field(() => String, { nullable: true, description: 'Its value after, as the API shows it; null when it has none.' })
  after!: string | null;
}

@ObjectType({ description: 'An audit log entry: who changed what, when.' })
export class AuditEntry {
  @Field(() => ID, { description: 'Unique id of the entry.' })
  id!: string;

  @Field(() => ID)
  eventId!: string;

  @Field()
  eventType!: string;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field(() => Role, { nullable: true, description: 'The role of who made the change; null when unknown.' })
  actorRole!: Role | null;

  @Field()
  correlationId!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => [AuditChange])
  changes!: AuditChange[];
}

@ObjectType({ description: "The CRM's contact record of the member, as last synchronised." })
export class CrmSync {
  @Field(() => ID, { description: "Unique id of the CRM contact: the member's id." })
  id!: string;

  @Field()
  email!: string;

  @Field()
  firstName!: string;

  @Field()
  lastName!: string;

  @Field(() => MemberTier, { description: 'The tier the CRM holds.' })
  tier!: MemberTier;

  @Field(() => Int, { description: 'Member version the contact reflects.' })
  version!: number;

  @Field(() => Date)
  syncedAt!: Date;

  @Field({ description: 'True when the contact reflects the latest member version.' })
  upToDate!: boolean;
}

@ObjectType({ description: 'A confirmation email sent to the member.' })
export class SentEmail {
  @Field(() => ID, { description: 'Unique id of the email.' })
  id!: string;

  @Field()
  to!: string;

  @Field()
  subject!: string;

  @Field()
  text!: string;

  @Field(() => EmailTransport, { description: 'How it left: SMTP, or MAILBOX when no SMTP server is configured.' })
  transport!: EmailTransport;

  @Field(() => Date)
  sentAt!: Date;

  @Field()
  sourceEventType!: string;
}
