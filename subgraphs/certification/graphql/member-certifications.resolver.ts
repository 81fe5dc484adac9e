// Contributes `Member.certifications` to the member entity owned by the member subgraph.
import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { CertificationStatus as DomainStatus } from '../domain/certification';
import { findCertifications } from '../projections/find-certifications';
import type { CertificationResolverDeps } from './certification.resolver';
import { certificationFromDoc } from './certification.mapper';
import { Certification, CertificationStatus, MemberRef } from './certification.type';

@Resolver(() => MemberRef)
export class MemberCertificationsResolver {
  constructor(private readonly deps: CertificationResolverDeps) {}

  @FieldResolver(() => [Certification], { description: "The member's certifications, soonest expiry first (the member itself or admins)." })
  async certifications(
    @Root() member: MemberRef,
    @Ctx() ctx: SubgraphContext,
    @Arg('status', () => CertificationStatus, { nullable: true }) status: CertificationStatus | null,
  ): Promise<Certification[]> {
    requireSelfOrAdmin(ctx, member.id);
    const docs = await findCertifications(this.deps.certifications, {
      applicantId: member.id,
      status: status as DomainStatus | null,
      expiringBefore: null,
      limit: 500,
    });
    return docs.map(certificationFromDoc);
  }
}
