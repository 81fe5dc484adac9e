// The analytics fields of Member: latest window summary, engagement, risk, reward points, patterns
// and actions. A member sees its own; an admin anyone's.
import { Args, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import { requireSelfOrAdmin, type SubgraphContext } from '../../common/context';
import type { AnalyticsDeps } from './analytics-deps';
import {
  ActivitySummary,
  ActivitySummaryConnection,
  AnalyticsMember,
  DetectedPatternConnection,
  EngagementScore,
  PatternActionConnection,
  RiskAssessment,
} from './analytics.types';
import { newestActionsFirst, newestPatternsFirst, toAction, toPattern, toSummary } from './mappers';
import { loadDocument } from '../../common/request-loaders';

@Resolver(() => AnalyticsMember)
export class MemberAnalyticsResolver {
  constructor(private readonly deps: AnalyticsDeps) {}

  @FieldResolver(() => ActivitySummary, { nullable: true, description: "The member's latest closed 5-minute activity window." })
  async activitySummary(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<ActivitySummary | null> {
    requireSelfOrAdmin(ctx, member.id);
    const doc = await loadDocument(ctx, this.deps.read.members, member.id);
    const summary = doc?.summaryId ? await loadDocument(ctx, this.deps.read.summaries, doc.summaryId) : null;
    return summary ? toSummary(summary) : null;
  }

  @FieldResolver(() => ActivitySummaryConnection, { description: "The member's closed 5-minute activity windows, newest first." })
  async activitySummaries(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
  ): Promise<ActivitySummaryConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(
      ActivitySummaryConnection,
      this.deps.read.summaries,
      { list: 'activity-summaries', where: { memberId: member.id }, orderBy: { field: 'windowStart', direction: 'desc' }, batchIn: ctx },
      page,
      toSummary,
    );
  }

  @FieldResolver(() => EngagementScore, { nullable: true, description: "The member's engagement after its latest closed window; null before the first." })
  async engagementScore(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<EngagementScore | null> {
    requireSelfOrAdmin(ctx, member.id);
    const e = (await loadDocument(ctx, this.deps.read.members, member.id))?.engagement;
    return e ? Object.assign(new EngagementScore(), { ...e, windowEnd: new Date(e.windowEnd) }) : null;
  }

  @FieldResolver(() => RiskAssessment, { nullable: true, description: "The member's risk after its latest closed window; null before the first." })
  async riskAssessment(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<RiskAssessment | null> {
    requireSelfOrAdmin(ctx, member.id);
    const r = (await loadDocument(ctx, this.deps.read.members, member.id))?.risk;
    return r ? Object.assign(new RiskAssessment(), { ...r, factors: [...r.factors], windowEnd: new Date(r.windowEnd) }) : null;
  }

  @FieldResolver(() => Int, { description: 'Reward points earned (high engagement pattern).' })
  async rewardPoints(@Root() member: AnalyticsMember, @Ctx() ctx: SubgraphContext): Promise<number> {
    requireSelfOrAdmin(ctx, member.id);
    return (await loadDocument(ctx, this.deps.read.members, member.id))?.rewardPoints ?? 0;
  }

  @FieldResolver(() => DetectedPatternConnection, { description: 'Patterns detected for the member, newest first.' })
  async detectedPatterns(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
  ): Promise<DetectedPatternConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(
      DetectedPatternConnection,
      this.deps.read.patterns,
      { list: 'detected-patterns', where: { memberId: member.id }, orderBy: newestPatternsFirst, batchIn: ctx },
      page,
      toPattern,
    );
  }

  @FieldResolver(() => PatternActionConnection, { description: 'Actions taken for the member (campaigns, offers, alerts, rewards), newest first.' })
  async patternActions(
    @Root() member: AnalyticsMember,
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
  ): Promise<PatternActionConnection> {
    requireSelfOrAdmin(ctx, member.id);
    return pageDocuments(
      PatternActionConnection,
      this.deps.read.actions,
      { list: 'pattern-actions', where: { memberId: member.id }, orderBy: newestActionsFirst, batchIn: ctx },
      page,
      toAction,
    );
  }
}
