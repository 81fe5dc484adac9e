// The analytics read model: window summaries, each member's latest engagement, risk and reward
// balance, detected patterns and the actions taken, projected from the processor's events. Every
// write is keyed by event or window and monotonic, so a repeated batch changes nothing.
import type { EventType } from '../../../messaging/events/catalog';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';

export interface SummaryDoc {
  readonly id: string;
  readonly memberId: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly paidCents: number;
}

export interface ScoreView {
  readonly score: number;
  readonly level: string;
  readonly windowEnd: string;
}

export interface MemberAnalyticsDoc {
  readonly id: string;
  readonly summaryId: string | null;
  readonly engagement: (ScoreView & { readonly windowScore: number; readonly previousScore: number | null }) | null;
  readonly risk: (ScoreView & { readonly factors: readonly string[] }) | null;
  readonly rewardPoints: number;
}

export interface PatternDoc {
  readonly id: string;
  readonly memberId: string;
  readonly ruleId: string;
  readonly pattern: string;
  readonly detectedAt: string;
  readonly evidence: readonly string[];
  readonly action: string;
}

export interface ActionDoc {
  readonly id: string;
  readonly memberId: string;
  readonly patternId: string;
  readonly type: string;
  readonly at: string;
  /** The action event's payload, as stored. */
  readonly detail: Record<string, unknown>;
}

export interface AnalyticsCollections {
  readonly summaries: DocumentCollection<SummaryDoc>;
  readonly members: DocumentCollection<MemberAnalyticsDoc>;
  readonly patterns: DocumentCollection<PatternDoc>;
  readonly actions: DocumentCollection<ActionDoc>;
}

export function analyticsCollections(documents: DocumentStore): AnalyticsCollections {
  return {
    summaries: documents.collection<SummaryDoc>('analytics_summaries', { indexes: ['memberId', 'windowStart'] }),
    members: documents.collection<MemberAnalyticsDoc>('analytics_members'),
    patterns: documents.collection<PatternDoc>('analytics_patterns', { indexes: ['memberId', 'detectedAt', 'pattern'] }),
    actions: documents.collection<ActionDoc>('analytics_actions', { indexes: ['memberId', 'at'] }),
  };
}

export const actionEventTypes = ['retention.campaign.started', 'vip.upgrade.offered', 'security.alert.raised', 'reward.points.granted'] as const;

export const readModelEventTypes: EventType[] = [
  'member.activity.summary',
  'member.engagement.score',
  'member.risk.assessment',
  'pattern.detected',
  ...actionEventTypes,
];

const emptyMember = (id: string): MemberAnalyticsDoc => ({ id, summaryId: null, engagement: null, risk: null, rewardPoints: 0 });

export function analyticsReadModelProjection(c: AnalyticsCollections) {
  return async (batch: readonly AnyEventEnvelope[]): Promise<void> => {
    for (const event of batch) {
      switch (event.type) {
        case 'member.activity.summary': {
          const p = event.payload;
          const id = `${p.memberId}|${p.windowStart}`;
          await c.summaries.put({ id, memberId: p.memberId, windowStart: p.windowStart, windowEnd: p.windowEnd, counts: { ...p.counts }, total: p.total, paidCents: p.paidCents });
          await c.members.update(p.memberId, (m) => {
            const current = m ?? emptyMember(p.memberId);
            return current.summaryId !== null && current.summaryId >= id ? null : { ...current, summaryId: id };
          });
          break;
        }
        case 'member.engagement.score': {
          const p = event.payload;
          await c.members.update(p.memberId, (m) => {
            const current = m ?? emptyMember(p.memberId);
            if (current.engagement && current.engagement.windowEnd >= p.windowEnd) return null;
            return { ...current, engagement: { score: p.score, level: p.level, windowEnd: p.windowEnd, windowScore: p.windowScore, previousScore: p.previousScore } };
          });
          break;
        }
        case 'member.risk.assessment': {
          const p = event.payload;
          await c.members.update(p.memberId, (m) => {
            const current = m ?? emptyMember(p.memberId);
            if (current.risk && current.risk.windowEnd >= p.windowEnd) return null;
            return { ...current, risk: { score: p.score, level: p.level, windowEnd: p.windowEnd, factors: [...p.factors] } };
          });
          break;
        }
        case 'pattern.detected': {
          const p = event.payload;
          await c.patterns.put({ id: p.patternId, memberId: p.memberId, ruleId: p.ruleId, pattern: p.pattern, detectedAt: p.detectedAt, evidence: [...p.evidence], action: p.action });
          break;
        }
        case 'retention.campaign.started':
        case 'vip.upgrade.offered':
        case 'security.alert.raised':
        case 'reward.points.granted': {
          const p = event.payload;
          await c.actions.put({ id: event.id, memberId: p.memberId, patternId: p.patternId, type: event.type, at: event.occurredAt, detail: { ...p } });
          if (event.type === 'reward.points.granted') {
            const balance = event.payload.balance;
            await c.members.update(p.memberId, (m) => {
              const current = m ?? emptyMember(p.memberId);
              return current.rewardPoints >= balance ? null : { ...current, rewardPoints: balance };
            });
          }
          break;
        }
        default:
          break;
      }
    }
  };
}
