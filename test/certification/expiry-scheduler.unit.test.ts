// The expiry scheduler on in-memory backends with a ManualClock: a moved clock, a restart with
// time passing while it was down, two instances racing, and renewals that cancel an expiry.
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { ManualClock } from '../../platform/clock';
import type { Identity } from '../../platform/auth';
import { loggerFor } from '../../platform/logger';
import { certificationStreamId } from '../../subgraphs/certification/domain/certification';
import { CertificationService } from '../../subgraphs/certification/domain/certification-service';
import { dueIndexCollection } from '../../subgraphs/certification/scheduler/expiry-due-index';
import { CertificationExpiryScheduler } from '../../subgraphs/certification/scheduler/expiry-scheduler';
import { createCertificationWorkers, type CertificationWorkers } from '../../subgraphs/certification/workers';

const member: Identity = { sub: 'm1', role: 'member', expiresAt: null };
const ctx = { correlationId: 'c1', actor: { id: 'admin', role: 'admin' as const } };
const documents = [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }];
// CPA: valid 36 months, expiring soon 60 days before expiry.
const start = '2025-01-15T00:00:00.000Z';
const expiry = '2028-01-15T00:00:00.000Z';
const windowOpens = '2027-11-16T00:00:00.000Z';

describe('certification expiry scheduler', () => {
  let clock: ManualClock;
  let backends: Backends;
  let service: CertificationService;
  const running: CertificationWorkers[] = [];

  async function workers(): Promise<CertificationWorkers> {
    // A long interval: the tests tick by hand.
    const w = createCertificationWorkers(backends, { snapshotEvery: 50, pollIntervalMs: 10, expiryIntervalMs: 3_600_000 });
    running.push(w);
    await w.dueIndex.start();
    await w.dueIndex.caughtUp();
    return w;
  }

  async function activeCertification(): Promise<string> {
    const { certification } = await service.apply(member, { certType: 'CPA', documents }, ctx);
    for (const kind of ['startReview', 'approve'] as const) await service.admin(certification.id, { kind }, ctx);
    await service.issue(certification.id, ctx);
    await service.admin(certification.id, { kind: 'activate' }, ctx);
    return certification.id;
  }

  async function types(id: string): Promise<string[]> {
    return (await backends.store.readStream(certificationStreamId(id))).map((e) => e.type);
  }

  beforeEach(async () => {
    clock = new ManualClock(start);
    backends = await createMemoryBackends(clock);
    service = new CertificationService(backends.store, backends.documents, clock, 50, { exists: async () => true });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((w) => w.close()));
    await backends.close();
  });

  it('emits expiring_soon when the window opens and expired at the expiry date, once each', async () => {
    const id = await activeCertification();
    const w = await workers();
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0, expired: 0 });

    clock.set(new Date(new Date(windowOpens).getTime() - 1));
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0 });

    clock.set(windowOpens);
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 1, expired: 0 });
    await w.dueIndex.caughtUp();
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0, expired: 0 });
    expect((await service.get(id))?.certification.status).toBe('Expiring');

    clock.set(expiry);
    expect(await w.scheduler.tick()).toMatchObject({ expired: 1 });
    await w.dueIndex.caughtUp();
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0, expired: 0 });

    const stream = await backends.store.readStream(certificationStreamId(id));
    expect(stream.map((e) => e.type).slice(-2)).toEqual(['certification.expiring_soon', 'certification.expired']);
    expect(stream[stream.length - 1]).toMatchObject({
      occurredAt: expiry,
      actor: { id: 'certification-expiry-scheduler', role: 'system' },
      payload: { certificationId: id, applicantId: 'm1', expiryDate: expiry },
    });
  });

  it('does not expire a certification renewed in its window; the renewed expiry is scheduled once active', async () => {
    const id = await activeCertification();
    const w = await workers();
    clock.set(windowOpens);
    await w.scheduler.tick();
    await service.renew(member, id, ctx);
    await w.dueIndex.caughtUp();

    clock.set(expiry);
    expect(await w.scheduler.tick()).toMatchObject({ expired: 0 });
    expect((await service.get(id))?.certification).toMatchObject({ status: 'Renewed', expiryDate: '2031-01-15T00:00:00.000Z' });

    await service.admin(id, { kind: 'activate' }, ctx);
    await w.dueIndex.caughtUp();
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0 });
    clock.set('2030-11-16T00:00:00.000Z');
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 1 });
  });

  it('leaves suspended certifications alone', async () => {
    const id = await activeCertification();
    await service.admin(id, { kind: 'suspend', reason: 'Audit' }, ctx);
    const w = await workers();
    clock.set('2030-01-01T00:00:00.000Z');
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 0, expired: 0 });
    expect((await service.get(id))?.certification.status).toBe('Suspended');
  });

  it('misses nothing across a restart: what came due while it was down is emitted at the first tick', async () => {
    const first = await activeCertification();
    let w = await workers();
    await w.scheduler.tick();
    await w.close();

    // While down: another certification becomes active, and time passes both expiry dates.
    clock.advance(24 * 3600_000);
    const second = await activeCertification();
    clock.set('2028-06-01T00:00:00.000Z');

    w = await workers();
    expect(await w.scheduler.tick()).toMatchObject({ expiringSoon: 2, expired: 2, lostRaces: 0 });
    for (const id of [first, second]) {
      expect((await types(id)).slice(-3)).toEqual(['certification.activated', 'certification.expiring_soon', 'certification.expired']);
    }
    await w.dueIndex.caughtUp();
    expect(await dueIndexCollection(backends.documents).count({ dueKind: 'none' })).toBe(2);
  });

  it('emits each transition once with two instances ticking at the same time', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => activeCertification()));
    const [a, b] = [await workers(), await workers()];
    clock.set('2028-06-01T00:00:00.000Z');
    const [ra, rb] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(ra.expiringSoon + rb.expiringSoon).toBe(10);
    expect(ra.expired + rb.expired).toBe(10);
    expect(ra.failures + rb.failures).toBe(0);
    for (const id of ids) {
      const stream = await types(id);
      expect(stream.filter((t) => t === 'certification.expiring_soon')).toHaveLength(1);
      expect(stream.filter((t) => t === 'certification.expired')).toHaveLength(1);
    }
  });

  it('treats a CONFLICT as "the other instance did it" when both decide before either appends', async () => {
    const id = await activeCertification();
    await workers();
    clock.set(windowOpens);
    // Hold each instance's append until both have loaded the same version.
    let arrived = 0;
    let release: () => void = () => {};
    const bothLoaded = new Promise<void>((resolve) => (release = resolve));
    const gated = new Proxy(service, {
      get(target, prop, receiver) {
        if (prop !== 'schedule') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<CertificationService['schedule']>) => {
          if (++arrived === 2) release();
          await bothLoaded;
          return target.schedule(...args);
        };
      },
    });
    const due = dueIndexCollection(backends.documents);
    const make = () => new CertificationExpiryScheduler({ service: gated, due, clock, logger: loggerFor('test'), intervalMs: 3_600_000 });
    const results = await Promise.all([make().tick(), make().tick()]);
    expect(results.map((r) => r.expiringSoon).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.lostRaces).sort()).toEqual([0, 1]);
    expect((await types(id)).filter((t) => t === 'certification.expiring_soon')).toHaveLength(1);
  });
});
