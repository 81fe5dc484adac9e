// The `trackActivity` command: validates a batch of activity (all or nothing; every member named must
// exist) and appends its events to the store in ONE append, so a refused or failed batch stores nothing.
import { randomUUID } from 'node:crypto';
import type { CausationContext } from '../../messaging/events/envelope';
import type { EventStore } from '../../messaging/store/event-store';
import type { Identity } from '../../platform/auth';
import type { Clock } from '../../platform/clock';
import { ValidationError } from '../../platform/errors';
import { requireMembers, storeMemberDirectory, type MemberDirectory } from '../common/member-directory';
import type { IdempotencyKeys } from '../../messaging/state/idempotency-keys';
import { activityEvents, defaultActivityLimits, type ActivityInput, type ActivityLimits } from './domain/activity-input';

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
   * `batchId` (the client's, for retries) names the batch's stream; a retried batch stores nothing
   * new. An idempotency key does the same for a client that gave no batchId (its first call's batch
   * id is remembered with the key), and answers CONFLICT when the key comes back with other activity.
   */
  async track(
    identity: Identity,
    inputs: readonly ActivityInput[],
    batchId: string | null,
    context: CausationContext,
    idempotencyKey: string | null = null,
  ): Promise<TrackedActivity[]> {
    if (batchId !== null && !BATCH_ID.test(batchId)) throw new ValidationError('batchId must be 1 to 64 letters, digits, "-" or "_".', { field: 'batchId' });
    if (idempotencyKey === null) return this.trackBatch(identity, inputs, batchId ?? randomUUID(), context);
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

  private async trackBatch(identity: Identity, inputs: readonly ActivityInput[], id: string, context: CausationContext): Promise<TrackedActivity[]> {
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
