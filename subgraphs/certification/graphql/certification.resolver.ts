// Certification queries (from the read model) and one mutation per lifecycle transition (through
// the service, answering with the new state). Members apply for and renew their own; admins the rest.
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { ForbiddenError, ValidationError } from '../../../platform/errors';
import { checkInstant } from '../../../platform/instants';
import { causationOf, idempotencyKeyOf, requireAdmin, requireIdentity, type SubgraphContext } from '../../common/context';
import { allowedEvents, type CertificationStatus as DomainStatus } from '../domain/certification';
import type { AdminCommand, CertificationService, CertificationSnapshot } from '../domain/certification-service';
import { findCertificationType } from '../domain/certification-types';
import type { CertificationDoc } from '../projections/certification-read-model';
import { findCertifications } from '../projections/find-certifications';
import { CertificationType } from './certification-type.type';
import { ApplyForCertificationInput } from './certification.inputs';
import { certificationFromDoc, certificationFromState } from './certification.mapper';
import {
  Certification,
  CertificationStatus,
  CertificationTransition,
  MemberRef,
  TransitionActor,
} from './certification.type';

export interface CertificationResolverDeps {
  readonly service: CertificationService;
  readonly certifications: DocumentCollection<CertificationDoc>;
}

/** A certification for a reference or a query: its applicant or an admin only. */
export async function readCertification(deps: CertificationResolverDeps, id: string, ctx: SubgraphContext): Promise<Certification | null> {
  const identity = requireIdentity(ctx);
  const doc = await deps.certifications.get(id);
  if (!doc) return null;
  if (identity.role !== 'admin' && doc.applicantId !== identity.sub) throw new ForbiddenError(`Certification ${id} is not yours.`);
  return certificationFromDoc(doc);
}

const MAX_FIRST = 500;

@Resolver(() => Certification)
export class CertificationResolver {
  constructor(private readonly deps: CertificationResolverDeps) {}

  @Query(() => Certification, { nullable: true, description: 'A certification by id (your own, or any for admins); null when unknown.' })
  certification(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Certification | null> {
    return readCertification(this.deps, id, ctx);
  }

  @Query(() => [Certification], {
    description:
      'Certifications by applicant, status and expiry (expiryDate before `expiringBefore`), soonest expiry first. Members see their own (memberId defaults to you); admins anyone.',
  })
  async certifications(
    @Ctx() ctx: SubgraphContext,
    @Arg('memberId', () => ID, { nullable: true }) memberId: string | null,
    @Arg('status', () => CertificationStatus, { nullable: true }) status: CertificationStatus | null,
    @Arg('expiringBefore', () => Date, { nullable: true }) expiringBefore: Date | null,
    @Arg('first', () => Int, { nullable: true, description: `At most this many (default 100, at most ${MAX_FIRST}).` }) first: number | null,
  ): Promise<Certification[]> {
    const identity = requireIdentity(ctx);
    const applicantId = memberId ?? (identity.role === 'admin' ? null : identity.sub);
    if (identity.role !== 'admin' && applicantId !== identity.sub) {
      throw new ForbiddenError(`A member may only list its own certifications (you are ${identity.sub}).`);
    }
    const limit = first ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIRST) {
      throw new ValidationError(`first must be from 1 to ${MAX_FIRST}.`, { field: 'first' });
    }
    const docs = await findCertifications(this.deps.certifications, {
      applicantId,
      status: status as DomainStatus | null,
      expiringBefore: expiringBefore ? checkInstant(expiringBefore, 'expiringBefore') : null,
      limit,
    });
    return docs.map(certificationFromDoc);
  }

  @Mutation(() => Certification, {
    description: 'Apply for a certification (for yourself; admins for any registered member: else NOT_FOUND). Starts in APPLIED. With an idempotency key, a repeat answers the first application.',
  })
  async applyForCertification(@Arg('input') input: ApplyForCertificationInput, @Ctx() ctx: SubgraphContext): Promise<Certification> {
    const identity = requireIdentity(ctx);
    const documents = input.documents.map((d) => ({ name: d.name, url: d.url }));
    const key = idempotencyKeyOf(ctx, input.idempotencyKey);
    return this.answer(await this.deps.service.apply(identity, { memberId: input.memberId ?? null, certType: input.certType, documents }, causationOf(ctx), key));
  }

  @Mutation(() => Certification, { description: 'Renew your EXPIRING certification (fee from its type; expiry moves on one validity period). -> RENEWED' })
  async renewCertification(
    @Arg('id', () => ID) id: string,
    @Arg('expectedVersion', () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Certification> {
    const identity = requireIdentity(ctx);
    return this.answer(await this.deps.service.renew(identity, id, causationOf(ctx), expectedVersion ?? undefined));
  }

  @Mutation(() => Certification, { description: 'Admins: APPLIED -> UNDER_REVIEW.' })
  startCertificationReview(@Arg('id', () => ID) id: string, @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'startReview' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: UNDER_REVIEW -> APPROVED.' })
  approveCertification(@Arg('id', () => ID) id: string, @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'approve' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: UNDER_REVIEW -> REJECTED (final), with a reason.' })
  rejectCertification(
    @Arg('id', () => ID) id: string,
    @Arg('reason') reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ) {
    return this.admin(ctx, id, { kind: 'reject', reason }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: APPROVED -> ISSUED, with the next certificate number of its type and year.' })
  async issueCertification(
    @Arg('id', () => ID) id: string,
    @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Certification> {
    requireAdmin(ctx);
    return this.answer(await this.deps.service.issue(id, causationOf(ctx), v ?? undefined));
  }

  @Mutation(() => Certification, { description: 'Admins: ISSUED or RENEWED -> ACTIVE.' })
  activateCertification(@Arg('id', () => ID) id: string, @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'activate' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: ACTIVE -> SUSPENDED, with a reason.' })
  suspendCertification(
    @Arg('id', () => ID) id: string,
    @Arg('reason') reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ) {
    return this.admin(ctx, id, { kind: 'suspend', reason }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: SUSPENDED -> ACTIVE.' })
  reactivateCertification(@Arg('id', () => ID) id: string, @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'reactivate' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: SUSPENDED -> REVOKED (final), with a reason.' })
  revokeCertification(
    @Arg('id', () => ID) id: string,
    @Arg('reason') reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ) {
    return this.admin(ctx, id, { kind: 'revoke', reason }, v);
  }

  @FieldResolver(() => MemberRef, { description: 'The applicant (fields from the member subgraph).' })
  member(@Root() certification: Certification): MemberRef {
    return Object.assign(new MemberRef(), { id: certification.memberId });
  }

  @FieldResolver(() => CertificationType, { nullable: true, description: 'Its certification type from the catalogue.' })
  type(@Root() certification: Certification): CertificationType | null {
    const type = findCertificationType(certification.certType);
    return type ? Object.assign(new CertificationType(), type) : null;
  }

  @FieldResolver(() => [String], { description: 'Event types allowed next from the current status (empty when final).' })
  allowedTransitions(@Root() certification: Certification): string[] {
    return allowedEvents(certification.status as DomainStatus);
  }

  @FieldResolver(() => [CertificationTransition], { description: 'Every transition so far, oldest first, from the event store.' })
  async timeline(@Root() certification: Certification): Promise<CertificationTransition[]> {
    const entries = await this.deps.service.timeline(certification.id);
    return entries.map((e) =>
      Object.assign(new CertificationTransition(), {
        eventType: e.eventType,
        occurredAt: new Date(e.occurredAt),
        fromState: e.fromState as CertificationStatus | null,
        toState: e.toState as CertificationStatus,
        actor: e.actor ? Object.assign(new TransitionActor(), e.actor) : null,
        reason: e.reason,
        version: e.version,
      }),
    );
  }

  private async admin(ctx: SubgraphContext, id: string, command: AdminCommand, expectedVersion: number | null): Promise<Certification> {
    requireAdmin(ctx);
    return this.answer(await this.deps.service.admin(id, command, causationOf(ctx), expectedVersion ?? undefined));
  }

  private answer(snapshot: CertificationSnapshot): Certification {
    return certificationFromState(snapshot.certification, snapshot.version);
  }
}
