// Read-model documents to API objects.
import type { ActionDoc, PatternDoc, SummaryDoc } from '../projections/analytics-read-model';
import type { LateEventDoc } from '../stream/processor-runner';
import { ActivitySummary, DetectedPattern, LateActivity, PatternAction } from './analytics.types';

export function toPattern(doc: PatternDoc): DetectedPattern {
  return Object.assign(new DetectedPattern(), { ...doc, evidence: [...doc.evidence], detectedAt: new Date(doc.detectedAt) });
}

export function toAction(doc: ActionDoc): PatternAction {
  return Object.assign(new PatternAction(), { ...doc, at: new Date(doc.at) });
}

export function toSummary(doc: SummaryDoc): ActivitySummary {
  const count = (key: string) => doc.counts[key] ?? 0;
  return Object.assign(new ActivitySummary(), {
    id: doc.id,
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

export function toLateActivity(d: LateEventDoc): LateActivity {
  return Object.assign(new LateActivity(), {
    eventId: d.eventId,
    memberId: d.memberId,
    type: d.type,
    occurredAt: new Date(d.occurredAt),
    windowStart: new Date(d.windowStart),
    watermark: new Date(d.watermark),
  });
}

/** How patterns and actions are listed: newest first (ties by id). */
export const newestPatternsFirst = { field: 'detectedAt', direction: 'desc' } as const;
export const newestActionsFirst = { field: 'at', direction: 'desc' } as const;
