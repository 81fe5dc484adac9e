// Member queries and the seed's member commands as mutations. A mutation answers as soon as its
// events are stored, with the new state from the aggregate; queries read the projections.
import { Arg, Args, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { ConnectionArgs, pageArray } from '../../common/connection';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { EventStore } from '../../../messaging/store/event-store';
import type { Clock } from '../../../platform/clock';
import { causationOf, idempotencyKeyOf, requireAdmin, requireIdentity, requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { MemberService } from '../domain/member-service';
import { applyToMemberDoc, type MemberDoc } from '../projections/member-read-model';
import { memberStreamId } from '../domain/member';
import { MemberSearchIndex } from '../projections/member-search-index';
import { CreateMemberInput, RenewMembershipInput, UpdateMemberProfileInput } from './member.inputs';
import { MemberConnection } from './member-connection.type';
import { memberFromDoc, memberFromSnapshot } from './member.mapper';
import { Member, MemberTier, MembershipStatus } from './member.type';
import { loadDocument } from '../../common/request-loaders';

export interface MemberResolverDeps {
  readonly service: MemberService;
  readonly members: DocumentCollection<MemberDoc>;
  readonly searchIndex: MemberSearchIndex;
  readonly clock: Clock;
  /** Where a subscription's member comes from when the read model has not caught up yet. */
  readonly store: EventStore;
}

/** Resolve a Member for another subgraph's reference: the caller must be that member or an admin. */
export async function resolveMemberReference(
  deps: MemberResolverDeps,
  reference: { id: string; atLeastVersion?: number },
  ctx: SubgraphContext,
): Promise<Member | null> {
  requireSelfOrAdmin(ctx, reference.id);
  let doc = await loadDocument(ctx, deps.members, reference.id);
  const wanted = reference.atLeastVersion;
  if (wanted !== undefined && (doc?.version ?? 0) < wanted) {
    // A pushed event can outrun the read model's follower: fold the events it has not applied yet,
    // up to the one being pushed, so the member shown is the member after that change.
    for (const event of await deps.store.readStream(memberStreamId(reference.id), (doc?.version ?? 0) + 1)) {
      if (event.streamVersion > wanted) break;
      doc = applyToMemberDoc(doc, event) ?? doc;
    }
  }
  return doc ? memberFromDoc(doc, deps.clock.now()) : null;
}

@Resolver(() => Member)
export class MemberResolver {
  constructor(private readonly deps: MemberResolverDeps) {}

  @Query(() => Member, { nullable: true, description: 'A member by id (yourself, or anyone for admins); null when unknown.' })
  async member(@Arg('id', () => ID, { description: 'The member id.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Member | null> {
    requireSelfOrAdmin(ctx, id);
    const doc = await this.deps.members.get(id);
    return doc ? memberFromDoc(doc, this.deps.clock.now()) : null;
  }

  @Query(() => MemberConnection, { description: 'Admins: search members by name or email prefix, membership status and tier.' })
  async members(
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('search', () => String, { nullable: true, description: 'Prefix of a first name, last name, full name or email (any case).' }) search: string | null,
    @Arg('status', () => MembershipStatus, { nullable: true, description: 'Only members in this membership status.' }) status: MembershipStatus | null,
    @Arg('tier', () => MemberTier, { nullable: true, description: 'Only members of this tier.' }) tier: MemberTier | null,
  ): Promise<MemberConnection> {
    requireAdmin(ctx);
    const matches = this.deps.searchIndex.search({ search, status, tier });
    const now = this.deps.clock.now();
    return pageArray(MemberConnection, matches, { list: 'members', keyOf: (m) => m.sortKey, compare: (a, b) => MemberSearchIndex.compareKeys(String(a), String(b)) }, page, async (selected) => {
      const docs = new Map((await this.deps.members.getMany(selected.map((m) => m.id))).map((d) => [d.id, d]));
      return selected.map((m) => {
        const doc = docs.get(m.id);
        return doc ? memberFromDoc(doc, now) : null;
      });
    });
  }

  @Mutation(() => Member, {
    description: 'Register a member: yourself (id = your token subject) at BASIC, or anyone at any tier as an admin. A paid tier comes with its order.',
  })
  async createMember(@Arg('input', { description: 'The new member.' }) input: CreateMemberInput, @Ctx() ctx: SubgraphContext): Promise<Member> {
    const identity = requireIdentity(ctx);
    const snapshot = await this.deps.service.create(
      identity,
      { id: input.id ?? null, email: input.email, firstName: input.firstName, lastName: input.lastName, tier: input.tier ?? null },
      causationOf(ctx),
      idempotencyKeyOf(ctx, input.idempotencyKey),
    );
    return memberFromSnapshot(snapshot, this.deps.clock.now());
  }

  @Mutation(() => Member, { description: 'Change profile fields. A stale expectedVersion is refused with CONFLICT.' })
  async updateMemberProfile(
    @Arg('id', () => ID, { description: 'The member to change.' }) id: string,
    @Arg('input', { description: 'The fields to change.' }) input: UpdateMemberProfileInput,
    @Arg('expectedVersion', () => Int, { description: 'The version you last read (Member.version): a stale one is refused with CONFLICT.' }) expectedVersion: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Member> {
    requireSelfOrAdmin(ctx, id);
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));
    const snapshot = await this.deps.service.updateProfile(id, changes, expectedVersion, causationOf(ctx));
    return memberFromSnapshot(snapshot, this.deps.clock.now());
  }

  @Mutation(() => Member, {
    description:
      'Admins: renew a membership (paid or granted outside the shop) for some months, from its end if it is still running. Members renew by ordering a membership product.',
  })
  async renewMembership(
    @Arg('id', () => ID, { description: 'The member whose membership to renew.' }) id: string,
    @Arg('input', () => RenewMembershipInput, { defaultValue: { months: 12 }, description: 'For how long, and optionally a new tier.' }) input: RenewMembershipInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Pass the version you last read (Member.version) to be refused with CONFLICT if it changed; omit it to renew the latest.' }) expectedVersion: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Member> {
    const identity = requireIdentity(ctx);
    const snapshot = await this.deps.service.renew(
      identity,
      id,
      { months: input.months, tier: input.tier ?? null },
      expectedVersion ?? undefined,
      causationOf(ctx),
    );
    return memberFromSnapshot(snapshot, this.deps.clock.now());
  }
}
