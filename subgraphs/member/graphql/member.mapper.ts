// Maps member state (from the aggregate or the read model) to the GraphQL Member.
import { membershipStatus } from '../domain/member';
import type { MemberSnapshot } from '../domain/member-service';
import type { MemberDoc } from '../projections/member-read-model';
import { Member, MemberTier, MembershipStatus } from './member.type';

export function memberFromDoc(doc: MemberDoc, now: Date): Member {
  return Object.assign(new Member(), {
    id: doc.id,
    email: doc.email,
    firstName: doc.firstName,
    lastName: doc.lastName,
    tier: doc.tier as MemberTier,
    membershipStatus: membershipStatus(doc.membershipExpiresAt, now) as MembershipStatus,
    membershipExpiresAt: doc.membershipExpiresAt ? new Date(doc.membershipExpiresAt) : null,
    createdAt: new Date(doc.createdAt),
    updatedAt: new Date(doc.updatedAt),
    version: doc.version,
  });
}

export function memberFromSnapshot({ member, version }: MemberSnapshot, now: Date): Member {
  return memberFromDoc(
    {
      id: member.id,
      ...member.profile,
      tier: member.tier,
      membershipExpiresAt: member.membershipExpiresAt,
      createdAt: member.createdAt,
      updatedAt: member.updatedAt,
      version,
    },
    now,
  );
}
