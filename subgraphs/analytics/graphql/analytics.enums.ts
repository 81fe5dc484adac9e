// The closed sets of the analytics API as enums: activity types, score levels, pattern kinds, CEP
// rule kinds and the actions patterns take. Internal values are the domain's own (event types,
// lowercase names), so resolvers pass domain values through and clients see the schema's names.
import { registerEnumType } from 'type-graphql';
import type { ActivityInputType } from '../domain/stream-processor';
import type { Level } from '../domain/engagement';
import type { PatternName, PatternSpec, RuleAction } from '../domain/cep-rules';

export enum ActivityType {
  MEMBER_LOGIN = 'member.login',
  MEMBER_PROFILE_VIEWED = 'member.profile.viewed',
  COURSE_STARTED = 'course.started',
  COURSE_COMPLETED = 'course.completed',
  SUPPORT_TICKET_OPENED = 'support.ticket.opened',
  PAYMENT_COMPLETED = 'payment.completed',
  PAYMENT_FAILED = 'payment.failed',
  MEMBER_PROFILE_UPDATED = 'member.profile.updated',
}
registerEnumType(ActivityType, {
  name: 'ActivityType',
  description:
    'A kind of member activity the analytics count (the event type `member.login` is MEMBER_LOGIN). Clients track the first five; payments and profile updates come from their own services.',
  valuesConfig: {
    MEMBER_LOGIN: { description: 'The member signed in (trackable).' },
    MEMBER_PROFILE_VIEWED: { description: 'The member viewed a profile (trackable).' },
    COURSE_STARTED: { description: 'The member started a course (trackable).' },
    COURSE_COMPLETED: { description: 'The member completed a course (trackable).' },
    SUPPORT_TICKET_OPENED: { description: 'The member opened a support ticket (trackable).' },
    PAYMENT_COMPLETED: { description: 'A payment of the member completed (from the payment service).' },
    PAYMENT_FAILED: { description: 'A payment of the member failed (from the payment service).' },
    MEMBER_PROFILE_UPDATED: { description: "The member's profile changed (from the member service)." },
  },
});

export enum ScoreLevel {
  LOW = 'low',
  MEDIUM = 'medium',
  HIGH = 'high',
}
registerEnumType(ScoreLevel, {
  name: 'ScoreLevel',
  description: 'Where a 0-100 score falls: the thresholds are given by the score type (engagement, risk).',
  valuesConfig: {
    LOW: { description: 'Below the MEDIUM threshold.' },
    MEDIUM: { description: 'From the MEDIUM threshold, below HIGH.' },
    HIGH: { description: 'From the HIGH threshold.' },
  },
});

export enum PatternKind {
  CHURN_RISK = 'churn_risk',
  VIP_BEHAVIOUR = 'vip_behaviour',
  FRAUD = 'fraud',
  HIGH_ENGAGEMENT = 'high_engagement',
}
registerEnumType(PatternKind, {
  name: 'PatternKind',
  description: 'What a CEP rule detects.',
  valuesConfig: {
    CHURN_RISK: { description: 'An active member went quiet: a retention campaign starts.' },
    VIP_BEHAVIOUR: { description: 'A member behaves like a VIP: an upgrade is offered.' },
    FRAUD: { description: 'Failed payments and a login from a new place together: a security alert is raised.' },
    HIGH_ENGAGEMENT: { description: 'A member is highly engaged: reward points are granted.' },
  },
});

export enum CepRuleKind {
  SEQUENCE = 'sequence',
  ALL = 'all',
  ABSENCE = 'absence',
}
registerEnumType(CepRuleKind, {
  name: 'CepRuleKind',
  description: 'How a CEP rule matches events within its time window.',
  valuesConfig: {
    SEQUENCE: { description: 'Its steps, in this order.' },
    ALL: { description: 'All its steps, in any order.' },
    ABSENCE: { description: 'Its trigger, then none of the absent events.' },
  },
});

export enum PatternActionType {
  RETENTION_CAMPAIGN_STARTED = 'retention.campaign.started',
  VIP_UPGRADE_OFFERED = 'vip.upgrade.offered',
  SECURITY_ALERT_RAISED = 'security.alert.raised',
  REWARD_POINTS_GRANTED = 'reward.points.granted',
}
registerEnumType(PatternActionType, {
  name: 'PatternActionType',
  description: 'An action a detected pattern takes (its event type `reward.points.granted` is REWARD_POINTS_GRANTED).',
  valuesConfig: {
    RETENTION_CAMPAIGN_STARTED: { description: 'A retention campaign started for the member.' },
    VIP_UPGRADE_OFFERED: { description: 'An upgrade to VIP was offered to the member.' },
    SECURITY_ALERT_RAISED: { description: 'A security alert was raised about the member.' },
    REWARD_POINTS_GRANTED: { description: 'Reward points were granted to the member.' },
  },
});

// The enums are the domain's sets, value for value: a change on either side fails compilation.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameActivityTypes: Same<`${ActivityType}`, ActivityInputType> = true;
const sameLevels: Same<`${ScoreLevel}`, Level> = true;
const samePatterns: Same<`${PatternKind}`, PatternName> = true;
const sameRuleKinds: Same<`${CepRuleKind}`, PatternSpec['kind']> = true;
const sameActions: Same<`${PatternActionType}`, RuleAction['type']> = true;
void [sameActivityTypes, sameLevels, samePatterns, sameRuleKinds, sameActions];
