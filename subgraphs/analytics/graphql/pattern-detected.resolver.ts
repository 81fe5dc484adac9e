// `patternDetected`: pushes every pattern the CEP rules detect, to admins (optionally for one
// member), fed by `pattern.detected` events from the live feed like `memberUpdated`.
import { Arg, Ctx, Field, FieldResolver, ID, Info, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { AnyEventEnvelope, EventEnvelope } from '../../../messaging/events/envelope';
import type { EventType } from '../../../messaging/events/catalog';
import { requireAdmin } from '../../common/context';
import { EventUpdate, eventTypeDescription, resolveEntityReference, subscribeToEntityEvents, updateFieldsOf, type SubscriptionContext } from '../../common/subscription-payload';
import { AnalyticsMember, DetectedPattern } from './analytics.types';
import { toPattern } from './mappers';

export const patternDetectedEventTypes = ['pattern.detected'] as const satisfies readonly EventType[];

@ObjectType({ description: 'A pattern the CEP rules detected, pushed by the `patternDetected` subscription.' })
export class PatternDetectedUpdate extends EventUpdate {
  @Field({ description: eventTypeDescription('The event that reported it', patternDetectedEventTypes) })
  override eventType!: string;

  @Field(() => DetectedPattern, { description: 'The pattern detected, with the rule, the evidence and the action it took.' })
  pattern!: DetectedPattern;

  /** Not a field: the key `member` resolves by reference. */
  memberId!: string;

  @Field(() => AnalyticsMember, { description: 'The member it was detected for (any Member field of the supergraph).' })
  member!: AnalyticsMember;
}

function isPatternEvent(event: AnyEventEnvelope): event is EventEnvelope<'pattern.detected'> {
  return event.type === 'pattern.detected';
}

@Resolver(() => PatternDetectedUpdate)
export class PatternDetectedResolver {
  @Subscription(() => PatternDetectedUpdate, {
    description:
      'Every pattern detected (churn risk, VIP behaviour, fraud, high engagement), as it happens; admins only. Pass memberId to watch one member. Resume with the last `cursor` as `extensions.cursor`.',
    subscribe: ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      requireAdmin(ctx);
      const memberId = (args as { memberId?: string | null }).memberId ?? null;
      return subscribeToEntityEvents(ctx, patternDetectedEventTypes, (event) => isPatternEvent(event) && (memberId === null || event.payload.memberId === memberId));
    },
  })
  patternDetected(@Root() event: AnyEventEnvelope, @Arg('memberId', () => ID, { nullable: true, description: "Only this member's patterns; every member's without it." }) _memberId: string | null): PatternDetectedUpdate {
    if (!isPatternEvent(event)) throw new Error(`patternDetected got an unexpected ${event.type} event`);
    const p = event.payload;
    return Object.assign(new PatternDetectedUpdate(), {
      ...updateFieldsOf(event),
      memberId: p.memberId,
      pattern: toPattern({ id: p.patternId, memberId: p.memberId, ruleId: p.ruleId, pattern: p.pattern, detectedAt: p.detectedAt, evidence: p.evidence, action: p.action }),
    });
  }

  @FieldResolver(() => AnalyticsMember)
  member(@Root() update: PatternDetectedUpdate, @Ctx() ctx: SubscriptionContext, @Info() info: GraphQLResolveInfo): Promise<unknown> {
    return resolveEntityReference(info, 'Member', { id: update.memberId }, ctx);
  }
}
