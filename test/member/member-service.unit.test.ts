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

  describe('membership follows payment', () => {
    const member = (sub: string): Identity => ({ sub, role: 'member', expiresAt: null });
    const memberCtx = (sub: string) => ({ correlationId: 'c1', actor: { id: sub, role: 'member' as const } });
    const registration = { email: 'self@example.org', firstName: 'Self', lastName: 'Made' };

    it.each(['premium', 'vip'] as const)("refuses a member's own registration at %s with FORBIDDEN on tier, and stores nothing", async (tier) => {
      const service = new MemberService(backends.store, backends.documents, clock, 50);
      await expect(service.create(member('m-free'), { ...registration, tier }, memberCtx('m-free'))).rejects.toMatchObject({
        code: 'FORBIDDEN',
        details: { field: 'tier' },
      });
      expect(await backends.store.headPosition()).toBe(0);
      // The email was not kept either: registering at BASIC now works.
      const basic = await service.create(member('m-free'), { ...registration, tier: 'basic' }, memberCtx('m-free'));
      expect(basic.member.tier).toBe('basic');
    });

    it('registers a member at BASIC with no membership time when no tier is given', async () => {
      const service = new MemberService(backends.store, backends.documents, clock, 50);
      const created = await service.create(member('m-plain'), registration, memberCtx('m-plain'));
      expect(created.member).toMatchObject({ tier: 'basic', membershipExpiresAt: null });
    });

    it('lets an admin register a member at any tier', async () => {
      const service = new MemberService(backends.store, backends.documents, clock, 50);
      const created = await service.create(admin, { id: 'm-vip', ...registration, tier: 'vip' }, ctx);
      expect(created.member.tier).toBe('vip');
    });

    it("refuses a member's own renewal without payment, with or without a tier change; an admin's goes through", async () => {
      const service = new MemberService(backends.store, backends.documents, clock, 50);
      await service.create(member('m-renew'), registration, memberCtx('m-renew'));
      for (const input of [{ months: 12 }, { months: 12, tier: 'basic' as const }, { months: 1, tier: 'vip' as const }]) {
        await expect(service.renew(member('m-renew'), 'm-renew', input, undefined, memberCtx('m-renew'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(await backends.store.streamVersion('member-m-renew')).toBe(1);
      const renewed = await service.renew(admin, 'm-renew', { months: 12 }, 1, ctx);
      expect(renewed.member.membershipExpiresAt).toBe('2026-01-15T00:00:00.000Z');
    });
  });

  it('loads the same state from snapshot plus tail as from a full replay', async () => {
    const service = new MemberService(backends.store, backends.documents, clock, 3);
    await service.create(admin, { id: 'm1', email: 'a@example.org', firstName: 'Ada', lastName: 'L' }, ctx);
    let version = 1;
    for (let i = 0; i < 6; i++) {
      clock.advance(60_000);
      version = (await service.updateProfile('m1', { firstName: `Ada${i}` }, version, ctx)).version;
    }
    await service.renew(admin, 'm1', { months: 12 }, version, ctx);
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
      if (i % 3 === 0) await service.renew(admin, `m${i}`, { months: 6, tier: 'premium' }, 1, ctx);
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
