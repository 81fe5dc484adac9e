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

  @Field(() => ID, { description: 'The event that made the change.' })
  eventId!: string;

  @Field({ description: 'Its type: `member.created`, `member.profile.updated`, `membership.renewed` or `membership.activated`.' })
  eventType!: string;

  @Field(() => String, { nullable: true, description: 'Who made the change (a member or admin id); null when unknown.' })
  actorId!: string | null;

  @Field(() => Role, { nullable: true, description: 'The role of who made the change; null when unknown.' })
  actorRole!: Role | null;

  @Field({ description: 'The correlation id of the request that caused it.' })
  correlationId!: string;

  @Field(() => Date, { description: 'When the change happened.' })
  occurredAt!: Date;

  @Field(() => [AuditChange], { description: 'The fields it changed, before and after.' })
  changes!: AuditChange[];
}

@ObjectType({ description: "The CRM's contact record of the member, as last synchronised." })
export class CrmSync {
  @Field(() => ID, { description: "Unique id of the CRM contact: the member's id." })
  id!: string;

  @Field({ description: 'The email the CRM holds.' })
  email!: string;

  @Field({ description: 'The first name the CRM holds.' })
  firstName!: string;

  @Field({ description: 'The last name the CRM holds.' })
  lastName!: string;

  @Field(() => MemberTier, { description: 'The tier the CRM holds.' })
  tier!: MemberTier;

  @Field(() => Int, { description: 'Member version the contact reflects.' })
  version!: number;

  @Field(() => Date, { description: 'When the CRM was last synchronised.' })
  syncedAt!: Date;

  @Field({ description: 'True when the contact reflects the latest member version.' })
  upToDate!: boolean;
}

@ObjectType({ description: 'A confirmation email sent to the member.' })
export class SentEmail {
  @Field(() => ID, { description: 'Unique id of the email.' })
  id!: string;

  @Field({ description: 'The address it went to.' })
  to!: string;

  @Field({ description: 'Its subject line.' })
  subject!: string;

  @Field({ description: 'Its plain-text body.' })
  text!: string;

  @Field(() => EmailTransport, { description: 'How it left: SMTP, or MAILBOX when no SMTP server is configured.' })
  transport!: EmailTransport;

  @Field(() => Date, { description: 'When it was sent.' })
  sentAt!: Date;

  @Field({ description: 'The change it confirms: `member.created`, `member.profile.updated`, `membership.renewed` or `membership.activated`.' })
  sourceEventType!: string;
}
