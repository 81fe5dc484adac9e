// The `trackActivity` command: validates a batch of activity (all or nothing; every member named must
// exist) and appends its events to the store in ONE append, so a refused or failed batch stores nothing.
import { randomUUID } from 'node:crypto';
import type { CausationContext } from '../../messaging/events/envelope';
import type { EventStore } from '../../messaging/store/event-store';
import type { Identity } from '../../platform/auth';
import type { Clock } from '../../platform/clock';
import { ValidationError } from '../../platform/errors';
import { requireMembers, storeMemberDirectory, type MemberDirectory } from '../common/member-directory';
import { activityEvents, defaultActivityLimits, type ActivityInput, type ActivityLimits } from './domain/activity-input';

export interface TrackedActivity {
  readonly eventId: string;
  readonly type: string;
  readonly memberId: string;
  readonly occurredAt: string;
  readonly position: number;
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class ActivityTracker {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly limits: ActivityLimits = defaultActivityLimits,
    private readonly members: MemberDirectory = storeMemberDirectory(store),
  ) {}

  /** `batchId` (the client's, for retries) names the batch's stream; a retried batch stores nothing new. */
  async track(identity: Identity, inputs: readonly ActivityInput[], batchId: string | null, context: CausationContext): Promise<TrackedActivity[]> {
    if (batchId !== null && !BATCH_ID.test(batchId)) throw new ValidationError('batchId must be 1 to 64 letters, digits, "-" or "_".', { field: 'batchId' });
    const id = batchId ?? randomUUID();
    const events = activityEvents(identity, inputs, id, this.clock.now(), this.limits);
    // Activity of a member nobody registered is refused, naming the first such entry.
    await requireMembers(
      this.members,
      events.map((e) => e.payload.memberId),
      (memberId) => {
        const index = inputs.findIndex((input) => input.memberId === memberId);
        return inputs.length === 1 ? 'input.memberId' : `inputs[${index}].memberId`;
      },
    );
    const result = await this.store.append(`activity-${id}`, events, { expectedVersion: 'any', context });
    return result.events.map((e) => ({
      eventId: e.id,
      type: e.type,
      memberId: (e.payload as { memberId: string }).memberId,
      occurredAt: e.occurredAt,
      position: e.position,
    }));
  }
}
