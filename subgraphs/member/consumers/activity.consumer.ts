// Analytics service of the seed (its first part): records each member's activity from the member
// events, for the analytics subgraph (`Member.recentActivity`) and the stream processor.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';

export interface ActivityRecord {
  readonly id: string;
  readonly memberId: string;
  readonly kind: string;
  readonly occurredAt: string;
  readonly position: number;
  readonly sourceEventId: string;
}

export function activityRecords(documents: DocumentStore): DocumentCollection<ActivityRecord> {
  return documents.collection<ActivityRecord>('member_activity', { indexes: ['memberId', 'position'] });
}

export function activityConsumer(deps: { documents: DocumentStore }) {
  const records = activityRecords(deps.documents);
  return defineConsumer({
    name: 'analytics-activity',
    handles: ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'],
    async handle(event) {
      await records.insert({
        id: `activity:${event.id}`,
        memberId: event.payload.memberId,
        kind: event.type,
        occurredAt: event.occurredAt,
        position: event.position,
        sourceEventId: event.id,
      });
    },
  });
}
