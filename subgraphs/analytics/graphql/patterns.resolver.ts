// Queries over detected patterns and actions (admins all, a member its own), the CEP rules, and the
// stream processor's status and late events (admins).
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import { requireAdmin, requireIdentity, type SubgraphContext } from '../../common/context';
import { ForbiddenError } from '../../../platform/errors';
import { NEVER } from '../domain/cep-engine';
import type { AnalyticsDeps } from './analytics-deps';
import { AnalyticsStatus, CepRuleInfo, DetectedPatternConnection, LateActivityConnection, PatternActionConnection } from './analytics.types';
import { PatternKind } from './analytics.enums';
import { newestActionsFirst, newestPatternsFirst, toAction, toLateActivity, toPattern } from './mappers';

/** The member whose records the caller may list: an admin any (or all: null), a member itself. */
function scope(ctx: SubgraphContext, memberId: string | null): string | null {
  const identity = requireIdentity(ctx);
  if (identity.role === 'admin') return memberId;
  if (memberId !== null && memberId !== identity.sub) throw new ForbiddenError(`A member may only see its own patterns (you are ${identity.sub}).`);
  return identity.sub;
}

@Resolver()
export class PatternResolver {
  constructor(private readonly deps: AnalyticsDeps) {}

  @Query(() => DetectedPatternConnection, { description: 'Detected patterns, newest first: an admin sees all (or one member), a member its own.' })
  async detectedPatterns(
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('memberId', () => ID, { nullable: true, description: "Only this member's patterns (a member's own by default)." }) memberId: string | null,
    @Arg('pattern', () => PatternKind, { nullable: true, description: 'Only patterns of this kind.' }) pattern: PatternKind | null,
  ): Promise<DetectedPatternConnection> {
    const member = scope(ctx, memberId ?? null);
    const where = { ...(member !== null ? { memberId: member } : {}), ...(pattern ? { pattern } : {}) };
    return pageDocuments(DetectedPatternConnection, this.deps.read.patterns, { list: 'detected-patterns', where, orderBy: newestPatternsFirst }, page, toPattern);
  }

  @Query(() => PatternActionConnection, { description: 'Actions the patterns took, newest first: an admin sees all (or one member), a member its own.' })
  async patternActions(
    @Ctx() ctx: SubgraphContext,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('memberId', () => ID, { nullable: true, description: "Only this member's actions (a member's own by default)." }) memberId: string | null,
  ): Promise<PatternActionConnection> {
    const member = scope(ctx, memberId ?? null);
    const where = member !== null ? { memberId: member } : {};
    return pageDocuments(PatternActionConnection, this.deps.read.actions, { list: 'pattern-actions', where, orderBy: newestActionsFirst }, page, toAction);
  }

  @Query(() => [CepRuleInfo], { description: 'The complex-event-processing rules, as data.' })
  cepRules(@Ctx() ctx: SubgraphContext): CepRuleInfo[] {
    requireIdentity(ctx);
    return this.deps.rules.map((r) =>
      Object.assign(new CepRuleInfo(), { id: r.id, pattern: r.pattern, description: r.description, kind: r.spec.kind, spec: r.spec, withinMs: r.withinMs, cooldownMs: r.cooldownMs, action: r.action }),
    );
  }

  @Query(() => AnalyticsStatus, { description: "The stream processor's position, watermark, open windows and late events (admins)." })
  async analyticsStatus(@Ctx() ctx: SubgraphContext): Promise<AnalyticsStatus> {
    requireAdmin(ctx);
    const s = await this.deps.stats();
    // Before the first input the watermark is "never": no date to show.
    const watermark = Math.max(s.maxEventTime, s.lastTick) > NEVER ? new Date(s.watermark) : null;
    return Object.assign(new AnalyticsStatus(), {
      position: s.position,
      watermark,
      allowedLatenessMs: s.allowedLatenessMs,
      openWindows: s.openWindows,
      members: s.members,
      lateEvents: s.lateEvents,
      processed: s.processed,
    });
  }

  @Query(() => LateActivityConnection, { description: 'Activity that arrived after its window closed, the latest to arrive first (admins).' })
  async lateActivity(@Ctx() ctx: SubgraphContext, @Args(() => ConnectionArgs) page: ConnectionArgs): Promise<LateActivityConnection> {
    requireAdmin(ctx);
    return pageDocuments(LateActivityConnection, this.deps.late, { list: 'late-activity', orderBy: { field: 'position', direction: 'desc' } }, page, toLateActivity);
  }
}
