// The analytics fields of Member: latest window summary, engagement, risk, reward points, patterns
// and actions. A member sees its own; an admin anyone's.
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { SummaryDoc } from '../projections/analytics-read-model';
import type { AnalyticsDeps } from './analytics-deps';
import { ActivitySummary, AnalyticsMember, DetectedPattern, EngagementScore, PatternAction, RiskAssessment } from './analytics.types';
import { toAction, toPattern } from './mappers';

function toSummary(doc: SummaryDoc): ActivitySummary {
  const count = (key: string) => doc.counts[key] ?? 0;
  return Object.assign(new ActivitySummary(), {
    windowStart: new Date(doc.windowStart),
    windowEnd: new Date(doc.windowEnd),
    logins: count('logins'),
    profileViews: count('profileViews'),
    coursesStarted: count('coursesStarted'),
    coursesCompleted: count('coursesCompleted'),
    supportTickets: count('supportTickets'),
    paymentsCompleted: count('paymentsCompleted'),
    paymentsFailed: count('paymentsFailed'),
    profileUpdates: count('profileUpdates'),
    total: doc.total,
    paidCents: doc.paidCents,
  });
}

const clampLimit = (limit: number | null | undefined, fallback: number) => Math.min(200, Math.max(0, limit ?? fallback));

@Resolver(() => AnalyticsMember)
export class MemberAnalyticsResolver {
  constructor(private readonly deps: AnalyticsDeps) {}

  @FieldResolver(() => ActivitySummary, { nullable: true, description: "The member's latest closed 5-minute activity window." })
  async activitySummary(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<ActivitySummary | null> {
    requireSelfOrAdmin(ctx, member.id);
    const doc = await this.deps.read.members.get(member.id);
    const summary = doc?.summaryId ? await this.deps.read.summaries.get(doc.summaryId) : null;
    return summary ? toSummary(summary) : null;
  }

  @FieldResolver(() => [ActivitySummary], { description: 'Closed windows, newest first (default 12, at most 200).' })
  async activitySummaries(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<ActivitySummary[]> {
    requireSelfOrAdmin(ctx, member.id);
    const docs = await this.deps.read.summaries.find({ where: { memberId: member.id }, orderBy: { field: 'windowStart', direction: 'desc' }, limit: clampLimit(limit, 12) });
    return docs.map(toSummary);
  }

  @FieldResolver(() => EngagementScore, { nullable: true })
  async engagementScore(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<EngagementScore | null> {
    requireSelfOrAdmin(ctx, member.id);
    const e = (await this.deps.read.members.get(member.id))?.engagement;
    return e ? Object.assign(new EngagementScore(), { ...e, windowEnd: new Date(e.windowEnd) }) : null;
  }

  @FieldResolver(() => RiskAssessment, { nullable: true })
  async riskAssessment(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<RiskAssessment | null> {
    requireSelfOrAdmin(ctx, member.id);
    const r = (await this.deps.read.members.get(member.id))?.risk;
    return r ? Object.assign(new RiskAssessment(), { ...r, factors: [...r.factors], windowEnd: new Date(r.windowEnd) }) : null;
  }

  @FieldResolver(() => Int, { description: 'Reward points earned (high engagement pattern).' })
  async rewardPoints(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<number> {
    requireSelfOrAdmin(ctx, member.id);
    return (await this.deps.read.members.get(member.id))?.rewardPoints ?? 0;
  }

  @FieldResolver(() => [DetectedPattern], { description: 'Patterns detected for the member, newest first.' })
  async detectedPatterns(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<DetectedPattern[]> {
    requireSelfOrAdmin(ctx, member.id);
    const docs = await this.deps.read.patterns.find({ where: { memberId: member.id }, orderBy: { field: 'detectedAt', direction: 'desc' }, limit: clampLimit(limit, 50) });
    return docs.map(toPattern);
  }

  @FieldResolver(() => [PatternAction], { description: 'Actions taken for the member (campaigns, offers, alerts, rewards), newest first.' })
  async patternActions(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<PatternAction[]> {
    requireSelfOrAdmin(ctx, member.id);
    const docs = await this.deps.read.actions.find({ where: { memberId: member.id }, orderBy: { field: 'at', direction: 'desc' }, limit: clampLimit(limit, 50) });
    return docs.map(toAction);
  }
}
