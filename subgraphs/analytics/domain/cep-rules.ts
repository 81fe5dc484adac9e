// The complex-event-processing rules as data: the seed's four patterns (churn risk, VIP behaviour,
// fraud, high engagement), each a declarative pattern with a `within` bound and the action it takes.

export type ConditionOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';
export type FactValue = string | number | boolean | null;

/** A comparison on one fact of an event (a payload field, or a derived one such as `newLocation`). */
export interface Condition {
  readonly field: string;
  readonly op: ConditionOp;
  readonly value: FactValue;
}

/** Events of one type meeting every condition; `times` of them are needed (default 1). */
export interface EventMatcher {
  readonly type: string;
  readonly where?: readonly Condition[];
  readonly times?: number;
}

export type PatternSpec =
  /** The steps happen in this order, all within the rule's `withinMs`. */
  | { readonly kind: 'sequence'; readonly steps: readonly EventMatcher[] }
  /** Every step happens, in any order, all within `withinMs`. */
  | { readonly kind: 'all'; readonly steps: readonly EventMatcher[] }
  /** `trigger` happens and none of `absent` follows it within `withinMs` (decided by the watermark). */
  | { readonly kind: 'absence'; readonly trigger: EventMatcher; readonly absent: readonly EventMatcher[] };

export type PatternName = 'churn_risk' | 'vip_behaviour' | 'fraud' | 'high_engagement';

export type RuleAction =
  | { readonly type: 'retention.campaign.started'; readonly campaign: string }
  | { readonly type: 'vip.upgrade.offered'; readonly offer: string }
  | { readonly type: 'security.alert.raised'; readonly severity: 'medium' | 'high' | 'critical'; readonly reason: string }
  | { readonly type: 'reward.points.granted'; readonly points: number; readonly reason: string };

export interface CepRule {
  readonly id: string;
  readonly pattern: PatternName;
  readonly description: string;
  readonly spec: PatternSpec;
  readonly withinMs: number;
  /** After a match, the rule ignores the member for this long (one campaign, not one per event). */
  readonly cooldownMs: number;
  readonly action: RuleAction;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const defaultRules: readonly CepRule[] = [
  {
    id: 'churn-risk-silent-after-support',
    pattern: 'churn_risk',
    description: 'A member opened a support ticket and then did nothing (no login, no course, no profile view) for 7 days.',
    spec: {
      kind: 'absence',
      trigger: { type: 'support.ticket.opened' },
      absent: [{ type: 'member.login' }, { type: 'course.started' }, { type: 'course.completed' }, { type: 'member.profile.viewed' }],
    },
    withinMs: 7 * DAY,
    cooldownMs: 7 * DAY,
    action: { type: 'retention.campaign.started', campaign: 'we-miss-you' },
  },
  {
    id: 'vip-behaviour-big-spender-learner',
    pattern: 'vip_behaviour',
    description: 'Within 30 days a member paid at least 100.00 EUR at once, completed 2 courses and logged in 3 times.',
    spec: {
      kind: 'all',
      steps: [
        { type: 'payment.completed', where: [{ field: 'amountCents', op: 'gte', value: 10_000 }] },
        { type: 'course.completed', times: 2 },
        { type: 'member.login', times: 3 },
      ],
    },
    withinMs: 30 * DAY,
    cooldownMs: 30 * DAY,
    action: { type: 'vip.upgrade.offered', offer: 'vip-upgrade-20-percent-off' },
  },
  {
    id: 'fraud-failed-payments-new-location',
    pattern: 'fraud',
    description: 'Within 10 minutes, 2 failed payments and a login from a place the member never logged in from.',
    spec: {
      kind: 'all',
      steps: [
        { type: 'payment.failed', times: 2 },
        { type: 'member.login', where: [{ field: 'newLocation', op: 'eq', value: true }] },
      ],
    },
    withinMs: 10 * MINUTE,
    cooldownMs: HOUR,
    action: { type: 'security.alert.raised', severity: 'high', reason: 'Failed payments and a login from a new location within minutes.' },
  },
  {
    id: 'high-engagement-course-then-score',
    pattern: 'high_engagement',
    description: 'A member completed a course and then reached an engagement score of 70 or more within the hour.',
    spec: {
      kind: 'sequence',
      steps: [{ type: 'course.completed' }, { type: 'member.engagement.score', where: [{ field: 'score', op: 'gte', value: 70 }] }],
    },
    withinMs: HOUR,
    cooldownMs: DAY,
    action: { type: 'reward.points.granted', points: 100, reason: 'High engagement: course completed and engagement score of 70+.' },
  },
];

/** Event types a rule set looks at (so the processor feeds only those to it). */
export function ruleEventTypes(rules: readonly CepRule[]): Set<string> {
  const types = new Set<string>();
  for (const rule of rules) {
    const matchers = rule.spec.kind === 'absence' ? [rule.spec.trigger, ...rule.spec.absent] : rule.spec.steps;
    for (const m of matchers) types.add(m.type);
  }
  return types;
}
