// Contributes `Member.certifications` to the member entity owned by the member subgraph.
import { Arg, Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ConnectionArgs } from '../../common/connection';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { CertificationStatus as DomainStatus } from '../domain/certification';
import { pageCertifications, type CertificationResolverDeps } from './certification.resolver';
import { CertificationConnection, CertificationStatus, MemberRef } from './certification.type';

@Resolver(() => MemberRef)
export class MemberCertificationsResolver {
  constructor(private readonly deps: CertificationResolverDeps) {}

  @FieldResolver(() => CertificationConnection, { description: "The member's certifications, soonest expiry first (the member itself or admins)." })
  async certifications(
    @Root() member: MemberRef,
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('status', () => CertificationStatus, { nullable: true, description: 'Only certifications in this status.' }) status: CertificationStatus | null,
  ): Promise<CertificationConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageCertifications(this.deps, { applicantId: member.id, status: status as DomainStatus | null, expiringBefore: null }, page, ctx);
  }
}
