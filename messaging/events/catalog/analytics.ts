// Event contracts of the analytics domain: the seed's raw activity events (Event Aggregation and
// CEP flows), what the stream processor derives from them, and the actions its rules take.
import { z } from 'zod';
import { defineEvent } from './define';

const memberId = z.string().min(1).max(64);
const id = z.string().min(1).max(128);
const instant = z.string().datetime();
const optionalText = z.string().min(1).max(200).nullable();
const level = z.enum(['low', 'medium', 'high']);

/** The counters of one member's 5-minute window. */
const windowCounts = z.object({
  logins: z.number().int().min(0),
  profileViews: z.number().int().min(0),
  coursesStarted: z.number().int().min(0),
  coursesCompleted: z.number().int().min(0),
  supportTickets: z.number().int().min(0),
  paymentsCompleted: z.number().int().min(0),
  paymentsFailed: z.number().int().min(0),
  profileUpdates: z.number().int().min(0),
});

const window = { windowStart: instant, windowEnd: instant };
const patternName = z.enum(['churn_risk', 'vip_behaviour', 'fraud', 'high_engagement']);

export const analyticsEvents = {
  'member.login': defineEvent({
    version: 1,
    description: 'A member signed in; `location` (city or country code) lets the fraud rule spot logins from new places.',
    schema: z.object({ memberId, activityId: id, location: optionalText, ip: optionalText, device: optionalText }),
  }),
  'member.profile.viewed': defineEvent({
    version: 1,
    description: 'A member looked at a profile (its own or another member’s).',
    schema: z.object({ memberId, activityId: id, profileId: z.string().min(1).max(64) }),
  }),
  'course.started': defineEvent({
    version: 1,
    description: 'A member started a course.',
    schema: z.object({ memberId, activityId: id, courseId: z.string().min(1).max(64) }),
  }),
  'course.completed': defineEvent({
    version: 1,
    description: 'A member completed a course.',
    schema: z.object({ memberId, activityId: id, courseId: z.string().min(1).max(64) }),
  }),
  'support.ticket.opened': defineEvent({
    version: 1,
    description: 'A member opened a support ticket.',
    schema: z.object({ memberId, activityId: id, ticketId: z.string().min(1).max(64), subject: optionalText }),
  }),
  'analytics.watermark.advanced': defineEvent({
    version: 1,
    description:
      'Processing time reached `at` with no newer events: lets the stream processor close idle windows. Stored so that a replay closes them at the same point.',
    schema: z.object({ at: instant }),
  }),
  'member.activity.summary': defineEvent({
    version: 1,
    description: "A member's activity in one closed 5-minute window (event time).",
    schema: z.object({ memberId, ...window, counts: windowCounts, total: z.number().int().min(0), paidCents: z.number().int().min(0) }),
  }),
  'member.engagement.score': defineEvent({
    version: 1,
    description: "A member's engagement (0-100) after a window: half this window's score, half the previous engagement.",
    schema: z.object({
      memberId,
      ...window,
      score: z.number().int().min(0).max(100),
      windowScore: z.number().int().min(0).max(100),
      previousScore: z.number().int().min(0).max(100).nullable(),
      level,
    }),
  }),
  'member.risk.assessment': defineEvent({
    version: 1,
    description: "A member's risk (0-100) after a window, with the factors that raised it.",
    schema: z.object({ memberId, ...window, score: z.number().int().min(0).max(100), level, factors: z.array(z.string().min(1)) }),
  }),
  'pattern.detected': defineEvent({
    version: 1,
    description: 'A complex-event-processing rule matched a member: which rule, the events that made it, and the action taken.',
    schema: z.object({
      patternId: id,
      ruleId: id,
      pattern: patternName,
      memberId,
      detectedAt: instant,
      evidence: z.array(z.string().min(1)),
      action: z.enum(['retention.campaign.started', 'vip.upgrade.offered', 'security.alert.raised', 'reward.points.granted']),
    }),
  }),
  'retention.campaign.started': defineEvent({
    version: 1,
    description: 'A retention campaign started for a member at risk of churning.',
    schema: z.object({ memberId, patternId: id, campaign: z.string().min(1) }),
  }),
  'vip.upgrade.offered': defineEvent({
    version: 1,
    description: 'A member behaving like a VIP was offered an upgrade.',
    schema: z.object({ memberId, patternId: id, offer: z.string().min(1) }),
  }),
  'security.alert.raised': defineEvent({
    version: 1,
    description: 'Activity that looks like fraud raised a security alert.',
    schema: z.object({ memberId, patternId: id, severity: z.enum(['medium', 'high', 'critical']), reason: z.string().min(1) }),
  }),
  'reward.points.granted': defineEvent({
    version: 1,
    description: 'A highly engaged member earned reward points; `balance` is the total after the grant.',
    schema: z.object({ memberId, patternId: id, points: z.number().int().min(1), balance: z.number().int().min(0), reason: z.string().min(1) }),
  }),
} as const;
