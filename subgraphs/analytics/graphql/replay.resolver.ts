// Admin API of the replay service: start a replay (answers at once with its id; a worker runs it),
// rebuild a projection, cancel, and read runs and the targets one may name.
import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import type { ReplayService } from '../../../messaging/replay/replay-service';
import { NotFoundError } from '../../../platform/errors';
import { idempotencyKeyOf, requireAdmin, type SubgraphContext } from '../../common/context';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';
import { toReplay, toTargetInfo } from './replay.mapper';
import { StartReplayInput } from './replay.inputs';
import { Replay, ReplayConnection, ReplayTargetInfo } from './replay.type';

@Resolver(() => Replay)
export class ReplayResolver {
  constructor(private readonly service: ReplayService) {}

  @Mutation(() => Replay, {
    description:
      'Admins: replay the events recorded in [from, to) to the given consumers (no emails or outside calls are repeated) or rebuild projections. Answers at once; watch it with `replayProgress(id)`.',
  })
  async startReplay(@Arg('input', () => StartReplayInput, { description: 'The range, the event types and the targets.' }) input: StartReplayInput, @Ctx() ctx: SubgraphContext): Promise<Replay> {
    const identity = requireAdmin(ctx);
    const doc = await this.service.start(
      { from: input.from, to: input.to, types: input.types ?? null, targets: input.targets },
      { id: identity.sub, correlationId: ctx.correlationId },
      idempotencyKeyOf(ctx, input.idempotencyKey),
    );
    return toReplay(doc);
  }

  @Mutation(() => Replay, {
    description: 'Admins: rebuild a projection (e.g. member-read-model) into a new version while the current one serves queries, then swap it in.',
  })
  async rebuildProjection(
    @Arg('name', { description: 'The projection, by name (see `replayTargets`), e.g. member-read-model.' }) name: string,
    @Ctx() ctx: SubgraphContext,
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey?: string | null,
  ): Promise<Replay> {
    const identity = requireAdmin(ctx);
    const key = idempotencyKeyOf(ctx, idempotencyKey);
    return toReplay(await this.service.rebuildProjection(name, { id: identity.sub, correlationId: ctx.correlationId }, key));
  }

  @Mutation(() => Replay, { description: 'Admins: cancel a pending or running replay (a rebuild is abandoned; the live version stays).' })
  async cancelReplay(@Arg('id', () => ID, { description: 'The replay to cancel.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Replay> {
    requireAdmin(ctx);
    return toReplay(await this.service.cancel(id));
  }

  @Query(() => Replay, { nullable: true, description: 'Admins: one replay with its progress and, when finished, its stats; null when unknown.' })
  async replay(@Arg('id', () => ID, { description: 'The replay id.' }) id: string, @Ctx() ctx: SubgraphContext): Promise<Replay | null> {
    requireAdmin(ctx);
    const doc = await this.service.get(id);
    return doc ? toReplay(doc) : null;
  }

  @Query(() => ReplayConnection, { description: 'Admins: replays, most recently requested first.' })
  async replays(@Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<ReplayConnection> {
    requireAdmin(ctx);
    return pageDocuments(ReplayConnection, this.service.runs, { list: 'replays', orderBy: { field: 'requestedAt', direction: 'desc' } }, page, toReplay);
  }

  @Query(() => [ReplayTargetInfo], { description: 'Admins: the consumers and projections a replay may target.' })
  async replayTargets(@Ctx() ctx: SubgraphContext): Promise<ReplayTargetInfo[]> {
    requireAdmin(ctx);
    return (await this.service.targets()).map(toTargetInfo);
  }
}
