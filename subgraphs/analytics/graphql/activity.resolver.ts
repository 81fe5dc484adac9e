// `trackActivity` / `trackActivities`: a member tracks its own activity, an admin anyone's.
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { causationOf, idempotencyKeyOf, requireIdentity, type SubgraphContext } from '../../common/context';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';
import type { TrackedActivity as Tracked } from '../activity-tracker';
import type { AnalyticsDeps } from './analytics-deps';
import { ActivityInput, TrackedActivity } from './analytics.types';

const toType = (t: Tracked) => Object.assign(new TrackedActivity(), { eventId: t.eventId, type: t.type, memberId: t.memberId, occurredAt: new Date(t.occurredAt) });

@Resolver()
export class ActivityResolver {
  constructor(private readonly deps: AnalyticsDeps) {}

  @Mutation(() => TrackedActivity, { description: 'Record one activity (login, profile view, course start or completion, support ticket).' })
  async trackActivity(
    @Arg('input', () => ActivityInput, { description: 'The activity.' }) input: ActivityInput,
    @Ctx() ctx: SubgraphContext,
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey?: string | null,
  ): Promise<TrackedActivity> {
    const [tracked] = await this.deps.tracker.track(requireIdentity(ctx), [input], null, causationOf(ctx), idempotencyKeyOf(ctx, idempotencyKey));
    return toType(tracked as Tracked);
  }

  @Mutation(() => [TrackedActivity], {
    description: 'Record up to 500 activities at once: all are stored, or none (the error names the bad entry). Pass batchId to make a retry store nothing new.',
  })
  async trackActivities(
    @Arg('inputs', () => [ActivityInput], { description: 'The activities: 1 to 500.' }) inputs: ActivityInput[],
    @Arg('batchId', () => ID, { nullable: true, description: 'Your id for the batch, so a retried call stores nothing new.' }) batchId: string | null,
    @Ctx() ctx: SubgraphContext,
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey?: string | null,
  ): Promise<TrackedActivity[]> {
    const tracked = await this.deps.tracker.track(requireIdentity(ctx), inputs, batchId ?? null, causationOf(ctx), idempotencyKeyOf(ctx, idempotencyKey));
    return tracked.map(toType);
  }
}
