// Retrying trackActivity: the same activity (same activityId, same details) answers the first
// call's result and stores nothing new, with or without a batchId; the same activityId with other
// details is CONFLICT; activity without an activityId is never deduplicated.
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import type { Identity } from '../../platform/auth';
import { ManualClock } from '../../platform/clock';
import { ActivityTracker } from '../../subgraphs/analytics/activity-tracker';
import type { ActivityInput } from '../../subgraphs/analytics/domain/activity-input';

const member: Identity = { sub: 'm-1', role: 'member', expiresAt: null };
const context = { correlationId: 'c1' };
const login = (extra: Partial<ActivityInput> = {}): ActivityInput => ({ memberId: 'm-1', type: 'member.login', activityId: 'login-1', location: 'Berlin', ...extra });

describe('ActivityTracker retries', () => {
  let store: MemoryEventStore;
  let clock: ManualClock;
  let tracker: ActivityTracker;
  beforeEach(() => {
    clock = new ManualClock('2025-03-01T10:00:00.000Z');
    store = new MemoryEventStore(clock);
    tracker = new ActivityTracker(store, clock);
  });
  afterEach(async () => {
    await store.close();
  });

  it('answers a retried activity (same activityId, no batchId) with the first result and stores it once', async () => {
    const first = await tracker.track(member, [login()], null, context);
    clock.advance(5_000); // the retry comes later: the time the first call defaulted to stands
    const again = await tracker.track(member, [login()], null, context);
    expect(again).toEqual(first);
    expect(first[0]?.occurredAt).toBe('2025-03-01T10:00:00.000Z');
    expect(await store.headPosition()).toBe(1);
  });

  it('answers a retried batch without batchId, whose every activity has an activityId, with the first result', async () => {
    const batch = [login(), login({ activityId: 'login-2', occurredAt: '2025-03-01T09:00:00Z' })];
    const first = await tracker.track(member, batch, null, context);
    expect(await tracker.track(member, batch, null, context)).toEqual(first);
    expect(await store.headPosition()).toBe(2);
  });

  it.each([
    ['another location', login({ location: 'Paris' })],
    ['another time', login({ occurredAt: '2025-03-01T09:59:00Z' })],
    ['another type', { memberId: 'm-1', type: 'course.started', activityId: 'login-1', courseId: 'c-1' }],
  ])('refuses the same activityId with %s as CONFLICT naming it, storing nothing', async (_what, changed) => {
    await tracker.track(member, [login({ occurredAt: '2025-03-01T09:58:00Z' })], null, context);
    await expect(tracker.track(member, [changed], null, context)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'input.activityId' } });
    expect(await store.headPosition()).toBe(1);
  });

  it('refuses a retried batchId whose activities changed as CONFLICT, naming the entry', async () => {
    await tracker.track(member, [login(), login({ activityId: 'login-2' })], 'batch-1', context);
    await expect(tracker.track(member, [login(), login({ activityId: 'login-2', device: 'phone' })], 'batch-1', context)).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { field: 'inputs[1].activityId' },
    });
    expect(await store.headPosition()).toBe(2);
  });

  it('stores every activity sent without an activityId, retried or not', async () => {
    const anonymous = login({ activityId: null });
    const first = await tracker.track(member, [anonymous], null, context);
    const second = await tracker.track(member, [anonymous], null, context);
    expect(second[0]?.eventId).not.toBe(first[0]?.eventId);
    expect(await store.headPosition()).toBe(2);
  });
});
