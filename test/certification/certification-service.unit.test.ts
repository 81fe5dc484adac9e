// The certification service and read model on in-memory backends: who may do what, certificate
// numbers, the timeline from the events, the read model queries, and nothing stored on refusal.
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { ManualClock } from '../../platform/clock';
import type { Identity } from '../../platform/auth';
import { loggerFor } from '../../platform/logger';
import { certificationEventTypes, certificationStreamId } from '../../subgraphs/certification/domain/certification';
import { CertificationService } from '../../subgraphs/certification/domain/certification-service';
import { certificationReadModelProjection, certificationsCollection } from '../../subgraphs/certification/projections/certification-read-model';
import { findCertifications } from '../../subgraphs/certification/projections/find-certifications';

const ada: Identity = { sub: 'ada', role: 'member', expiresAt: null };
const bob: Identity = { sub: 'bob', role: 'member', expiresAt: null };
const admin: Identity = { sub: 'root', role: 'admin', expiresAt: null };
const ctx = { correlationId: 'c1', actor: { id: 'root', role: 'admin' as const } };
const documents = [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }];

describe('certification service', () => {
  let clock: ManualClock;
  let backends: Backends;
  let service: CertificationService;

  beforeEach(async () => {
    clock = new ManualClock('2025-03-01T00:00:00.000Z');
    backends = await createMemoryBackends(clock);
    // Members are the member subgraph's concern: here every applicant exists, but for `ghost`.
    service = new CertificationService(backends.store, backends.documents, clock, 3, { exists: async (id) => id !== 'ghost' });
  });
  afterEach(async () => {
    await backends.close();
  });

  async function approved(identity: Identity = ada, certType = 'CPA'): Promise<string> {
    const { certification } = await service.apply(identity, { certType, documents }, ctx);
    await service.admin(certification.id, { kind: 'startReview' }, ctx);
    await service.admin(certification.id, { kind: 'approve' }, ctx);
    return certification.id;
  }

  it('lets a member apply for itself only; an admin for anyone', async () => {
    expect((await service.apply(ada, { certType: 'CIA', documents }, ctx)).certification).toMatchObject({ applicantId: 'ada', status: 'Applied' });
    await expect(service.apply(ada, { memberId: 'bob', certType: 'CIA', documents }, ctx)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await service.apply(admin, { memberId: 'bob', certType: 'CIA', documents }, ctx)).certification.applicantId).toBe('bob');
  });

  it('refuses an application for a member that does not exist, storing nothing', async () => {
    await expect(service.apply(admin, { memberId: 'ghost', certType: 'CIA', documents }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { field: 'memberId' } });
    await expect(service.apply({ sub: 'ghost', role: 'member', expiresAt: null }, { certType: 'CIA', documents }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // By default the service asks the member streams in the store.
    const real = new CertificationService(backends.store, backends.documents, clock, 3);
    await expect(real.apply(ada, { certType: 'CIA', documents }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await backends.store.headPosition()).toBe(0);
    await backends.store.append('member-ada', [{ type: 'member.created', payload: { memberId: 'ada', email: 'ada@example.org', firstName: 'Ada', lastName: 'L', tier: 'basic' } }], {
      expectedVersion: 'no_stream',
      context: ctx,
    });
    expect((await real.apply(ada, { certType: 'CIA', documents }, ctx)).certification.applicantId).toBe('ada');
  });

  it('lets only the applicant (or an admin) renew', async () => {
    const id = await approved();
    await service.issue(id, ctx);
    await service.admin(id, { kind: 'activate' }, ctx);
    clock.set('2028-02-01T00:00:00.000Z');
    const { version } = await service.schedule(id, 'markExpiringSoon', ctx, 5);
    await expect(service.renew(bob, id, ctx)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(service.renew(ada, id, ctx, version - 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await service.renew(ada, id, ctx, version)).certification.status).toBe('Renewed');
  });

  it('numbers certificates per type and year, human-readable and unique, without burning numbers on refusals', async () => {
    const [a, b, c] = [await approved(), await approved(bob), await approved(ada, 'CFE')];
    expect((await service.issue(a, ctx)).certification.certNumber).toBe('CPA-2025-000001');
    await expect(service.issue(a, ctx)).rejects.toMatchObject({ code: 'INVALID_TRANSITION', details: { currentState: 'Issued' } });
    expect((await service.issue(b, ctx)).certification.certNumber).toBe('CPA-2025-000002');
    expect((await service.issue(c, ctx)).certification.certNumber).toBe('CFE-2025-000001');
    clock.set('2026-01-02T00:00:00.000Z');
    expect((await service.issue(await approved(), ctx)).certification.certNumber).toBe('CPA-2026-000001');
  });

  it('issues distinct numbers to concurrent issues', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => approved()));
    const numbers = await Promise.all(ids.map(async (id) => (await service.issue(id, ctx)).certification.certNumber));
    expect(new Set(numbers).size).toBe(8);
  });

  it('stores nothing on a refusal', async () => {
    const { certification } = await service.apply(ada, { certType: 'CPA', documents }, ctx);
    const stream = certificationStreamId(certification.id);
    await expect(service.admin(certification.id, { kind: 'approve' }, ctx)).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      details: { currentState: 'Applied', allowedTransitions: ['certification.review.started'] },
    });
    await service.admin(certification.id, { kind: 'startReview' }, ctx);
    await expect(service.admin(certification.id, { kind: 'reject', reason: ' ' }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.admin('nope', { kind: 'approve' }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.apply(ada, { certType: 'NOPE', documents }, ctx)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'certType' } });
    expect(await backends.store.streamVersion(stream)).toBe(2);
  });

  it('tells the timeline of transitions from the events, with actors and reasons', async () => {
    const id = await approved();
    await service.issue(id, ctx);
    await service.admin(id, { kind: 'activate' }, ctx);
    await service.admin(id, { kind: 'suspend', reason: 'Complaint' }, ctx);
    await service.admin(id, { kind: 'revoke', reason: 'Upheld' }, ctx);
    const timeline = await service.timeline(id);
    expect(timeline.map((t) => `${t.fromState ?? '[*]'} -> ${t.toState}`)).toEqual([
      '[*] -> Applied',
      'Applied -> UnderReview',
      'UnderReview -> Approved',
      'Approved -> Issued',
      'Issued -> Active',
      'Active -> Suspended',
      'Suspended -> Revoked',
    ]);
    expect(timeline[6]).toMatchObject({ eventType: 'certification.revoked', reason: 'Upheld', actor: { id: 'root', role: 'admin' }, version: 7 });
    // Snapshots every 3 events: loading through a snapshot agrees with the timeline's end.
    expect((await service.get(id))?.certification).toMatchObject({ status: 'Revoked', reason: 'Upheld' });
  });

  it('projects a read model that answers by member, status and expiry', async () => {
    const certifications = certificationsCollection(backends.documents);
    const follower = new StoreFollower('rm', backends.store, memoryCheckpoint(), certificationReadModelProjection(certifications), loggerFor('test'), {
      types: certificationEventTypes,
      pollIntervalMs: 10,
    });
    const cpa = await approved(); // expires 2028-03-01
    await service.issue(cpa, ctx);
    clock.set('2025-06-01T00:00:00.000Z');
    const cfe = await approved(ada, 'CFE'); // expires 2026-06-01
    await service.issue(cfe, ctx);
    await approved(bob);
    await follower.start();
    await follower.caughtUp();
    await follower.stop();
    const find = (f: Partial<Parameters<typeof findCertifications>[1]>) =>
      findCertifications(certifications, { applicantId: null, status: null, expiringBefore: null, limit: 100, ...f }).then((d) => d.map((x) => x.id));
    expect(await find({ applicantId: 'ada' })).toEqual(expect.arrayContaining([cpa, cfe]));
    expect(await find({ applicantId: 'ada' })).toHaveLength(2);
    expect(await find({ status: 'Approved' })).toHaveLength(1);
    expect(await find({ expiringBefore: '2027-01-01T00:00:00.000Z' })).toEqual([cfe]);
    expect(await find({ expiringBefore: '2029-01-01T00:00:00.000Z' })).toEqual([cfe, cpa]);
    expect(await certifications.get(cfe)).toMatchObject({
      status: 'Issued',
      certNumber: 'CFE-2025-000001',
      expiryDate: '2026-06-01T00:00:00.000Z',
      expiringSoonAt: '2026-05-02T00:00:00.000Z',
      version: 4,
    });
  });
});
