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
  @Field()
  name!: string;

  @Field()
  url!: string;
}

@ObjectType({ description: 'Who caused a transition.' })
export class TransitionActor {
  @Field(() => ID)
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

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => CertificationStatus, { nullable: true, description: 'Null for the application itself.' })
  fromState!: CertificationStatus | null;

  @Field(() => CertificationStatus)
  toState!: CertificationStatus;

  @Field(() => TransitionActor, { nullable: true })
  actor!: TransitionActor | null;

  @Field(() => String, { nullable: true, description: 'The reason given for a rejection, suspension or revocation.' })
  reason!: string | null;

  @Field(() => Int, { description: 'Stream version after this transition.' })
  version!: number;
}

@Directive('@key(fields: "id")')
@ObjectType({ description: "A member's professional certification and where it is in its lifecycle." })
export class Certification {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'The applicant.' })
  memberId!: string;

  @Field(() => String, { description: 'Code of its certification type (see `type`).' })
  certType!: string;

  @Field(() => CertificationStatus)
  status!: CertificationStatus;

  @Field(() => [CertificationDocumentInfo])
  documents!: CertificationDocumentInfo[];

  @Field(() => String, { nullable: true, description: 'Unique certificate number, e.g. CPA-2025-000123; set when issued.' })
  certNumber!: string | null;

  @Field(() => Date, { nullable: true })
  issueDate!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set when issued; moved on by each renewal.' })
  expiryDate!: Date | null;

  @Field(() => Date, { nullable: true, description: "When it enters its type's expiring-soon window." })
  expiringSoonAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Reason of the last rejection, suspension or revocation.' })
  reason!: string | null;

  @Field(() => Int)
  renewals!: number;

  @Field(() => Date)
  appliedAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Int, { description: "Version of the certification's event stream: pass it as expectedVersion to change it." })
  version!: number;
}

@ObjectType({ description: 'A page of certifications, soonest expiry first (not yet issued ones, without an expiry date, first).' })
export class CertificationConnection extends ConnectionOf(Certification, 'Certification', 'certification') {}

@ObjectType({ description: "A page of a certification's transitions, oldest first." })
export class CertificationTransitionConnection extends ConnectionOf(CertificationTransition, 'CertificationTransition', 'transition') {}
