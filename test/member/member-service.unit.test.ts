// The member service on in-memory backends: snapshots, the email uniqueness lock, the projections.
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { ManualClock } from '../../platform/clock';
import type { Identity } from '../../platform/auth';
import { loggerFor } from '../../platform/logger';
import { MemberService } from '../../subgraphs/member/domain/member-service';
import { memberEventTypes, memberReadModelProjection, membersCollection } from '../../subgraphs/member/projections/member-read-model';

const admin: Identity = { sub: 'admin', role: 'admin', expiresAt: null };
const ctx = { correlationId: 'c1', actor: { id: 'admin', role: 'admin' as const } };

describe('member service', () => {
  let backends: Backends;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2025-01-15T00:00:00.000Z');
    backends = await createMemoryBackends(clock);
  });
  afterEach(async () => {
    await backends.close();
  });

  it('loads the same state from snapshot plus tail as from a full replay', async () => {
    const service = new MemberService(backends.store, backends.documents, clock, 3);
    await service.create(admin, { id: 'm1', email: 'a@example.org', firstName: 'Ada', lastName: 'L' }, ctx);
    let version = 1;
    for (let i = 0; i < 6; i++) {
      clock.advance(60_000);
      version = (await service.updateProfile('m1', { firstName: `Ada${i}` }, version, ctx)).version;
    }
    await service.renew('m1', { months: 12 }, version, ctx);
    const snapshot = await backends.store.loadSnapshot('member-m1');
    // Snapshots were taken at versions 3 and 6; versions 7 and 8 are the tail read after it.
    expect(snapshot?.version).toBe(6);
    const fromSnapshot = await service.get('m1');
    const fromEvents = await service.getFromEvents('m1');
    expect(fromSnapshot).toEqual(fromEvents);
    expect(fromSnapshot?.version).toBe(8);
  });

  it('frees the old email after a change and keeps a refused registration from holding one', async () => {
    const service = new MemberService(backends.store, backends.documents, clock, 50);
    await service.create(admin, { id: 'm1', email: 'one@example.org', firstName: 'A', lastName: 'B' }, ctx);
    await expect(service.create(admin, { id: 'm1', email: 'two@example.org', firstName: 'A', lastName: 'B' }, ctx)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // two@ was reserved for the refused command and released again:
    await service.create(admin, { id: 'm2', email: 'two@example.org', firstName: 'C', lastName: 'D' }, ctx);
    await service.updateProfile('m1', { email: 'uno@example.org' }, 1, ctx);
    await service.create(admin, { id: 'm3', email: 'one@example.org', firstName: 'E', lastName: 'F' }, ctx);
    await expect(service.updateProfile('m3', { email: 'UNO@example.org' }, 1, ctx)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'email' },
    });
  });

  it('rebuilds the read model from the event store to what it was built live', async () => {
    const service = new MemberService(backends.store, backends.documents, clock, 50);
    const live = membersCollection(backends.documents);
    const logger = loggerFor('test');
    const liveFollower = new StoreFollower('live', backends.store, memoryCheckpoint(), memberReadModelProjection(live), logger, {
      types: memberEventTypes,
    });
    await liveFollower.start();
    backends.onAppend(() => liveFollower.wake());
    for (let i = 0; i < 20; i++) {
      await service.create(admin, { id: `m${i}`, email: `m${i}@example.org`, firstName: 'F', lastName: `L${i}` }, ctx);
      if (i % 3 === 0) await service.renew(`m${i}`, { months: 6, tier: 'premium' }, 1, ctx);
    }
    await liveFollower.caughtUp();
    await liveFollower.stop();

    const rebuilt = membersCollection(backends.documents, 'members_rebuild');
    const rebuild = new StoreFollower('rebuild', backends.store, memoryCheckpoint(), memberReadModelProjection(rebuilt), logger, {
      types: memberEventTypes,
    });
    await rebuild.start();
    await rebuild.caughtUp();
    await rebuild.stop();
    expect(await rebuilt.find()).toEqual(await live.find());
    expect(await live.count()).toBe(20);
  });
});
