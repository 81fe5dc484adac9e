// Queries over detected patterns and actions (admins all, a member its own), the CEP rules, and the
// stream processor's status and late events (admins).
import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { requireAdmin, requireIdentity, type SubgraphContext } from '../../common/context';
import { ForbiddenError } from '../../../platform/errors';
import { NEVER } from '../domain/cep-engine';
import type { AnalyticsDeps } from './analytics-deps';
import { AnalyticsStatus, CepRuleInfo, DetectedPattern, LateActivity, PatternAction } from './analytics.types';
import { toAction, toPattern } from './mappers';

const clampLimit = (limit: number | null | undefined) => Math.min(200, Math.max(0, limit ?? 50));

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

  @Query(() => [DetectedPattern], { description: 'Detected patterns, newest first: an admin sees all (or one member), a member its own.' })
  async detectedPatterns(
    @Ctx() ctx: SubgraphContext,
    @Arg('memberId', () => ID, { nullable: true }) memberId: string | null,
    @Arg('pattern', () => String, { nullable: true, description: 'churn_risk, vip_behaviour, fraud or high_engagement.' }) pattern: string | null,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<DetectedPattern[]> {
    const member = scope(ctx, memberId ?? null);
    const where = { ...(member !== null ? { memberId: member } : {}), ...(pattern ? { pattern } : {}) };
    const docs = await this.deps.read.patterns.find({ where, orderBy: { field: 'detectedAt', direction: 'desc' }, limit: clampLimit(limit) });
    return docs.map(toPattern);
  }

  @Query(() => [PatternAction], { description: 'Actions the patterns took, newest first: an admin sees all (or one member), a member its own.' })
  async patternActions(
    @Ctx() ctx: SubgraphContext,
    @Arg('memberId', () => ID, { nullable: true }) memberId: string | null,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<PatternAction[]> {
    const member = scope(ctx, memberId ?? null);
    const docs = await this.deps.read.actions.find({ where: member !== null ? { memberId: member } : {}, orderBy: { field: 'at', direction: 'desc' }, limit: clampLimit(limit) });
    return docs.map(toAction);
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

  @Query(() => [LateActivity], { description: 'Activity that arrived after its window closed, newest first (admins).' })
  async lateActivity(@Ctx() ctx: SubgraphContext, @Arg('limit', () => Int, { nullable: true }) limit: number | null): Promise<LateActivity[]> {
    requireAdmin(ctx);
    const docs = await this.deps.late.find({ orderBy: { field: 'position', direction: 'desc' }, limit: clampLimit(limit) });
    return docs.map((d) =>
      Object.assign(new LateActivity(), {
        eventId: d.eventId,
        memberId: d.memberId,
        type: d.type,
        occurredAt: new Date(d.occurredAt),
        windowStart: new Date(d.windowStart),
        watermark: new Date(d.watermark),
      }),
    );
  }
}
