// The `trackActivity` command: validates a batch of activity (all or nothing; every member named must
// exist) and appends its events to the store in ONE append, so a refused or failed batch stores
// nothing. A retry (same batchId, or without one the same activityIds, or the same idempotency key)
// answers what the first call stored; a "retry" with other details is CONFLICT.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { AnyEventEnvelope, CausationContext } from '../../messaging/events/envelope';
import { DuplicateEventError } from '../../messaging/store/append-preparation';
import type { EventStore } from '../../messaging/store/event-store';
import type { Identity } from '../../platform/auth';
import type { Clock } from '../../platform/clock';
import { DomainError, ValidationError } from '../../platform/errors';
import { deterministicUuid } from '../../platform/ids';
import type { IdempotencyKeys } from '../../messaging/state/idempotency-keys';
import { requireMembers, storeMemberDirectory, type MemberDirectory } from '../member/member-directory';
import { activityEvents, defaultActivityLimits, type ActivityEvent, type ActivityInput, type ActivityLimits } from './domain/activity-input';

export interface TrackedActivity {
  readonly eventId: string;
  readonly type: string;
  readonly memberId: string;
  readonly occurredAt: string;
  readonly position: number;
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface ActivityTrackerOptions {
  readonly limits?: ActivityLimits;
  /** Where members are looked up (default: their streams in `store`). */
  readonly members?: MemberDirectory;
  /** Idempotency keys of `trackActivity` / `trackActivities` (without: keys are refused as unsupported). */
  readonly keys?: IdempotencyKeys;
}

export class ActivityTracker {
  private readonly limits: ActivityLimits;
  private readonly members: MemberDirectory;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly options: ActivityTrackerOptions = {},
  ) {
    this.limits = options.limits ?? defaultActivityLimits;
    this.members = options.members ?? storeMemberDirectory(store);
  }

  /**
   * `batchId` (the client's, for retries) names the batch's stream; without one, a batch whose
   * every activity has an activityId gets a stream named after them, so a retry finds it. Either
   * way a retry stores nothing new and answers the first call's result. An idempotency key does the
   * same for any batch (its first call's batch id is remembered with the key), and answers CONFLICT
   * when the key comes back with other activity.
   */
  async track(
    identity: Identity,
    inputs: readonly ActivityInput[],
    batchId: string | null,
    context: CausationContext,
    idempotencyKey: string | null = null,
  ): Promise<TrackedActivity[]> {
    if (batchId !== null && !BATCH_ID.test(batchId)) throw new ValidationError('batchId must be 1 to 64 letters, digits, "-" or "_".', { field: 'batchId' });
    if (idempotencyKey === null) return this.trackBatch(identity, inputs, batchId, context);
    const keys = this.options.keys;
    if (!keys) throw new ValidationError('Idempotency keys are not available here.', { field: 'idempotencyKey' });
    return keys.run(
      { operation: 'trackActivity', caller: identity, key: idempotencyKey, input: { inputs, batchId } },
      {
        newId: () => batchId ?? randomUUID(),
        // The batch's append is idempotent itself (event ids from the batch id): doing it again answers the stored events.
        find: async () => null,
        create: (id) => this.trackBatch(identity, inputs, id, context),
      },
    );
  }

  private async trackBatch(identity: Identity, inputs: readonly ActivityInput[], batchId: string | null, context: CausationContext): Promise<TrackedActivity[]> {
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
    const retriable = batchId !== null || inputs.every((input) => input.activityId);
    const streamId = batchId !== null || !retriable ? `activity-${id}` : `activity-ids-${deterministicUuid(events.map((e) => e.id).join(','))}`;
    let result;
    try {
      result = await this.store.append(streamId, events, { expectedVersion: 'any', context });
    } catch (error) {
      // Some ids are stored already, elsewhere or as another type: the same activityIds, other details.
      if (!(error instanceof DuplicateEventError)) throw error;
      const index = Math.max(0, events.findIndex((e) => e.id === error.details.eventId));
      throw activityConflict(events[index] as ActivityEvent, inputs, index);
    }
    result.events.forEach((stored, index) => sameActivity(stored, events[index] as ActivityEvent, inputs, index));
    return result.events.map((e) => ({
      eventId: e.id,
      type: e.type,
      memberId: (e.payload as { memberId: string }).memberId,
      occurredAt: e.occurredAt,
      position: e.position,
    }));
  }
}

/**
 * A re-append of stored ids answers the stored events: they must be what this call asked for (the
 * time too, when the caller gave one; a defaulted time is the first call's).
 */
function sameActivity(stored: AnyEventEnvelope, asked: ActivityEvent, inputs: readonly ActivityInput[], index: number): void {
  const input = inputs[index];
  const timeGiven = input?.occurredAt !== undefined && input?.occurredAt !== null;
  const same =
    stored.type === asked.type &&
    isDeepStrictEqual(JSON.parse(JSON.stringify(stored.payload)), JSON.parse(JSON.stringify(asked.payload))) &&
    (!timeGiven || stored.occurredAt === asked.occurredAt);
  if (!same) throw activityConflict(asked, inputs, index);
}

function activityConflict(asked: ActivityEvent, inputs: readonly ActivityInput[], index: number): DomainError {
  const activityId = (asked.payload as { activityId: string }).activityId;
  return new DomainError('CONFLICT', `Activity ${activityId} was already tracked with other details: repeat it exactly to retry, or use a new activityId.`, {
    field: inputs.length === 1 ? 'input.activityId' : `inputs[${index}].activityId`,
  });
}
