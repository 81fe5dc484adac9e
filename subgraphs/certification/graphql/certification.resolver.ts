// Certification queries (from the read model) and one mutation per lifecycle transition (through
// the service, answering with the new state). Members apply for and renew their own; admins the rest.
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConnectionArgs, pageArray, pageDocuments } from '../../common/connection';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { ForbiddenError, IllegalStateError } from '../../../platform/errors';
import { checkInstant } from '../../../platform/instants';
import { actionsFrom, toApiTransitionError } from './certification-actions';
import { causationOf, idempotencyKeyOf, requireAdmin, requireIdentity, type SubgraphContext } from '../../common/context';
import { limits, type CertificationStatus as DomainStatus } from '../domain/certification';
import type { AdminCommand, CertificationService, CertificationSnapshot } from '../domain/certification-service';
import { findCertificationType } from '../domain/certification-types';
import type { CertificationDoc } from '../projections/certification-read-model';
import { certificationQuery, type CertificationFilter } from '../projections/find-certifications';
import { CertificationType } from './certification-type.type';
import { ApplyForCertificationInput } from './certification.inputs';
import { certificationFromDoc, certificationFromState } from './certification.mapper';
import {
  Certification,
  CertificationConnection,
  CertificationStatus,
  CertificationTransition,
  CertificationTransitionConnection,
  MemberRef,
  TransitionActor,
} from './certification.type';
import { loadDocument } from '../../common/request-loaders';

export interface CertificationResolverDeps {
  readonly service: CertificationService;
  readonly certifications: DocumentCollection<CertificationDoc>;
}

/** A certification for a reference or a query: its applicant or an admin only. */
export async function readCertification(deps: CertificationResolverDeps, id: string, ctx: SubgraphContext): Promise<Certification | null> {
  const identity = requireIdentity(ctx);
  const doc = await loadDocument(ctx, deps.certifications, id);
  if (!doc) return null;
  if (identity.role !== 'admin' && doc.applicantId !== identity.sub) throw new ForbiddenError(`Certification ${id} is not yours.`);
  return certificationFromDoc(doc);
}

/** Certifications matching a filter, as a connection (read with the request's other pages when `batchIn` is given). */
export function pageCertifications(deps: CertificationResolverDeps, filter: CertificationFilter, args: ConnectionArgs, batchIn?: object): Promise<CertificationConnection> {
  return pageDocuments(CertificationConnection, deps.certifications, { list: 'certifications', ...certificationQuery(filter), ...(batchIn ? { batchIn } : {}) }, args, certificationFromDoc);
}

@Resolver(() => Certification)
export class CertificationResolver {
  constructor(private readonly deps: CertificationResolverDeps) {}

  @Query(() => Certification, { nullable: true, description: 'A certification by id (your own, or any for admins); null when unknown.' })
  certification(@Arg('id', () => ID, { description: 'The certification id.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Certification | null> {
    return readCertification(this.deps, id, ctx);
  }

  @Query(() => CertificationConnection, {
    description:
      'Certifications by applicant, status and expiry (expiryDate before `expiringBefore`), soonest expiry first. Members see their own (memberId defaults to you); admins anyone.',
  })
  async certifications(
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('memberId', () => ID, { nullable: true, description: 'The applicant: yourself by default; admins see everyone without it.' }) memberId: string | null,
    @Arg('status', () => CertificationStatus, { nullable: true, description: 'Only certifications in this status.' }) status: CertificationStatus | null,
    @Arg('expiringBefore', () => Date, { nullable: true, description: 'Only certifications whose expiry date is before this instant.' })
    expiringBefore: Date | null,
  ): Promise<CertificationConnection> {
    const identity = requireIdentity(ctx);
    const applicantId = memberId ?? (identity.role === 'admin' ? null : identity.sub);
    if (identity.role !== 'admin' && applicantId !== identity.sub) {
      throw new ForbiddenError(`A member may only list its own certifications (you are ${identity.sub}).`);
    }
    return pageCertifications(
      this.deps,
      { applicantId, status: status as DomainStatus | null, expiringBefore: expiringBefore ? checkInstant(expiringBefore, 'expiringBefore') : null },
      page,
    );
  }

  @Mutation(() => Certification, {
    description: 'Apply for a certification (for yourself; admins for any registered member: else NOT_FOUND). Starts in APPLIED. With an idempotency key, a repeat answers the first application.',
  })
  async applyForCertification(@Arg('input', { description: 'The application.' }) input: ApplyForCertificationInput, @Ctx() ctx: SubgraphContext): Promise<Certification> {
    const identity = requireIdentity(ctx);
    const documents = input.documents.map((d) => ({ name: d.name, url: d.url }));
    const key = idempotencyKeyOf(ctx, input.idempotencyKey);
    return this.answer(await this.deps.service.apply(identity, { memberId: input.memberId ?? null, certType: input.certType, documents }, causationOf(ctx), key));
  }

  @Mutation(() => Certification, { description: 'Renew your EXPIRING certification (fee from its type; expiry moves on one validity period). -> RENEWED' })
  async renewCertification(
    @Arg('id', () => ID, { description: 'The certification to renew.' }) id: string,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) expectedVersion: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Certification> {
    const identity = requireIdentity(ctx);
    return this.transition(ctx, id, () => this.deps.service.renew(identity, id, causationOf(ctx), expectedVersion ?? undefined));
  }

  @Mutation(() => Certification, { description: 'Admins: APPLIED -> UNDER_REVIEW.' })
  startCertificationReview(@Arg('id', () => ID, { description: 'The certification to review.' }) id: string, @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'startReview' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: UNDER_REVIEW -> APPROVED.' })
  approveCertification(@Arg('id', () => ID, { description: 'The certification to approve.' }) id: string, @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'approve' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: UNDER_REVIEW -> REJECTED (final), with a reason.' })
  rejectCertification(
    @Arg('id', () => ID, { description: 'The certification to reject.' }) id: string,
    @Arg('reason', { description: `Why it is rejected, for the applicant (1 to ${limits.reason} characters).` }) reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ) {
    return this.admin(ctx, id, { kind: 'reject', reason }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: APPROVED -> ISSUED, with the next certificate number of its type and year.' })
  async issueCertification(
    @Arg('id', () => ID, { description: 'The certification to issue.' }) id: string,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Certification> {
    requireAdmin(ctx);
    return this.transition(ctx, id, () => this.deps.service.issue(id, causationOf(ctx), v ?? undefined));
  }

  @Mutation(() => Certification, { description: 'Admins: ISSUED or RENEWED -> ACTIVE.' })
  activateCertification(@Arg('id', () => ID, { description: 'The certification to activate.' }) id: string, @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'activate' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: ACTIVE -> SUSPENDED, with a reason.' })
  suspendCertification(
    @Arg('id', () => ID, { description: 'The certification to suspend.' }) id: string,
    @Arg('reason', { description: `Why it is suspended (1 to ${limits.reason} characters).` }) reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null,
    @Ctx() ctx: SubgraphContext,
  ) {
    return this.admin(ctx, id, { kind: 'suspend', reason }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: SUSPENDED -> ACTIVE.' })
  reactivateCertification(@Arg('id', () => ID, { description: 'The certification to reactivate.' }) id: string, @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null, @Ctx() ctx: SubgraphContext) {
    return this.admin(ctx, id, { kind: 'reactivate' }, v);
  }

  @Mutation(() => Certification, { description: 'Admins: SUSPENDED -> REVOKED (final), with a reason.' })
  revokeCertification(
    @Arg('id', () => ID, { description: 'The certification to revoke.' }) id: string,
    @Arg('reason', { description: `Why it is revoked (1 to ${limits.reason} characters).` }) reason: string,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Certification.version): a stale one is refused with CONFLICT. Omit it to act on the latest.' }) v: number | null,
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

  @FieldResolver(() => [CertificationStatus], {
    description:
      'The states you may move it to now, each by the mutation at the same place in `allowedMutations` (admins review, issue, activate, suspend, reactivate and revoke; the applicant renews). Empty when it is final or only the expiry scheduler moves it on.',
  })
  allowedTransitions(@Root() certification: Certification, @Ctx() ctx: SubgraphContext): CertificationStatus[] {
    return actionsFrom(certification.status as DomainStatus, certification.memberId, ctx.identity).map((a) => a.toState);
  }

  @FieldResolver(() => [String], {
    description: 'The mutations you may call on it now (e.g. `approveCertification`), in the order of `allowedTransitions`.',
  })
  allowedMutations(@Root() certification: Certification, @Ctx() ctx: SubgraphContext): string[] {
    return actionsFrom(certification.status as DomainStatus, certification.memberId, ctx.identity).map((a) => a.mutation);
  }

  @FieldResolver(() => CertificationTransitionConnection, { description: 'Every transition so far, oldest first, from the event store.' })
  async timeline(@Root() certification: Certification, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<CertificationTransitionConnection> {
    const entries = await this.deps.service.timeline(certification.id);
    return pageArray(
      CertificationTransitionConnection,
      entries,
      { list: `timeline:${certification.id}`, keyOf: (e) => e.version, compare: (a, b) => Number(a) - Number(b) },
      page,
      (selected) =>
        selected.map((e) =>
          Object.assign(new CertificationTransition(), {
            id: e.eventId,
            eventType: e.eventType,
            occurredAt: new Date(e.occurredAt),
            fromState: e.fromState as CertificationStatus | null,
            toState: e.toState as CertificationStatus,
            actor: e.actor ? Object.assign(new TransitionActor(), e.actor) : null,
            reason: e.reason,
            version: e.version,
          }),
        ),
    );
  }

  private async admin(ctx: SubgraphContext, id: string, command: AdminCommand, expectedVersion: number | null): Promise<Certification> {
    requireAdmin(ctx);
    return this.transition(ctx, id, () => this.deps.service.admin(id, command, causationOf(ctx), expectedVersion ?? undefined));
  }

  /** Run a transition; a refusal is retold in the schema's terms (states, mutations). */
  private async transition(ctx: SubgraphContext, id: string, run: () => Promise<CertificationSnapshot>): Promise<Certification> {
    try {
      return this.answer(await run());
    } catch (error) {
      const current = error instanceof IllegalStateError ? await this.deps.service.get(id) : null;
      throw toApiTransitionError(error, current?.certification.applicantId ?? null, ctx.identity);
    }
  }

  private answer(snapshot: CertificationSnapshot): Certification {
    return certificationFromState(snapshot.certification, snapshot.version);
  }
}
