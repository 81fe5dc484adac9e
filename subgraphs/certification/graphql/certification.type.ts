// The Certification entity (owned here), its status enum, documents and timeline entries, and the
// Member stub through which this subgraph refers to members and contributes Member.certifications.
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import { Role } from '../../common/role';

/** GraphQL names for the domain statuses (the enum's values are the domain's own names). */
export enum CertificationStatus {
  APPLIED = 'Applied',
  UNDER_REVIEW = 'UnderReview',
  APPROVED = 'Approved',
  REJECTED = 'Rejected',
  ISSUED = 'Issued',
  ACTIVE = 'Active',
  EXPIRING = 'Expiring',
  RENEWED = 'Renewed',
  EXPIRED = 'Expired',
  SUSPENDED = 'Suspended',
  REVOKED = 'Revoked',
}
registerEnumType(CertificationStatus, {
  name: 'CertificationStatus',
  description: 'Where a certification is in its lifecycle. REJECTED, EXPIRED and REVOKED are final.',
  valuesConfig: {
    APPLIED: { description: 'Applied for; waiting for a review.' },
    UNDER_REVIEW: { description: 'Being reviewed by an admin.' },
    APPROVED: { description: 'Approved; waiting to be issued.' },
    REJECTED: { description: 'Rejected (final), with a reason.' },
    ISSUED: { description: 'Issued, with a certificate number and an expiry date; waiting to be activated.' },
    ACTIVE: { description: 'Active until it nears its expiry date.' },
    EXPIRING: { description: "In its type's expiring-soon window: the applicant may renew it." },
    RENEWED: { description: 'Renewed, with a later expiry date; waiting to be activated again.' },
    EXPIRED: { description: 'Past its expiry date without renewal (final).' },
    SUSPENDED: { description: 'Suspended by an admin, with a reason.' },
    REVOKED: { description: 'Revoked (final), with a reason.' },
  },
});

/** A member as this subgraph knows it: by key only (the member subgraph resolves the rest). */
@Directive('@key(fields: "id")')
@ObjectType('Member')
export class MemberRef {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'A document supporting an application.' })
export class CertificationDocumentInfo {
  @Field({ description: 'What the document is.' })
  name!: string;

  @Field({ description: 'Where it can be read.' })
  url!: string;
}

@ObjectType({ description: 'Who caused a transition.' })
export class TransitionActor {
  @Field(() => ID, { description: 'The member or admin id (`system` for the scheduler).' })
  id!: string;

  @Field(() => Role, { description: 'MEMBER, ADMIN, or SYSTEM for the expiry scheduler.' })
  role!: Role;
}

@ObjectType({ description: 'One transition of a certification, from its events.' })
export class CertificationTransition {
  @Field(() => ID, { description: 'Unique id: the id of the event that made the transition.' })
  id!: string;

  @Field({ description: 'The event of the transition: `certification.applied`, `certification.review.started`, `certification.approved`, ... `certification.revoked` (see `eventContracts`).' })
  eventType!: string;

  @Field(() => Date, { description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => CertificationStatus, { nullable: true, description: 'Null for the application itself.' })
  fromState!: CertificationStatus | null;

  @Field(() => CertificationStatus, { description: 'The status it moved to.' })
  toState!: CertificationStatus;

  @Field(() => TransitionActor, { nullable: true, description: 'Who made it; null when unknown.' })
  actor!: TransitionActor | null;

  @Field(() => String, { nullable: true, description: 'The reason given for a rejection, suspension or revocation.' })
  reason!: string | null;

  @Field(() => Int, { description: 'Stream version after this transition.' })
  version!: number;
}

@Directive('@key(fields: "id")')
@ObjectType({ description: "A member's professional certification and where it is in its lifecycle." })
export class Certification {
  @Field(() => ID, { description: 'Unique id of the certification.' })
  id!: string;

  @Field(() => ID, { description: 'The applicant.' })
  memberId!: string;

  @Field(() => String, { description: 'Code of its certification type (see `type`).' })
  certType!: string;

  @Field(() => CertificationStatus, { description: 'Where it is in its lifecycle.' })
  status!: CertificationStatus;

  @Field(() => [CertificationDocumentInfo], { description: 'The documents supporting the application.' })
  documents!: CertificationDocumentInfo[];

  @Field(() => String, { nullable: true, description: 'Unique certificate number, e.g. CPA-2025-000123; set when issued.' })
  certNumber!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was issued; null before.' })
  issueDate!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set when issued; moved on by each renewal.' })
  expiryDate!: Date | null;

  @Field(() => Date, { nullable: true, description: "When it enters its type's expiring-soon window." })
  expiringSoonAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Reason of the last rejection, suspension or revocation.' })
  reason!: string | null;

  @Field(() => Int, { description: 'How many times it was renewed.' })
  renewals!: number;

  @Field(() => Date, { description: 'When the member applied.' })
  appliedAt!: Date;

  @Field(() => Date, { description: 'When it last changed.' })
  updatedAt!: Date;

  @Field(() => Int, { description: "Version of the certification's event stream: pass it as expectedVersion to change it." })
  version!: number;
}

@ObjectType({ description: 'A page of certifications, soonest expiry first (not yet issued ones, without an expiry date, first).' })
export class CertificationConnection extends ConnectionOf(Certification, 'Certification', 'certification') {}

@ObjectType({ description: "A page of a certification's transitions, oldest first." })
export class CertificationTransitionConnection extends ConnectionOf(CertificationTransition, 'CertificationTransition', 'transition') {}
