// The relay's lease: one holder at a time, taken over only after it expired, released on stop; the
// runner starts and stops the guarded work as the lease is won and lost.
import { ManualClock, systemClock } from '../../platform/clock';
import { eventually } from '../support/wait';
import { loggerFor } from '../../platform/logger';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { Lease, LeasedRunner, leases } from '../../messaging/state/lease';

const TTL = 15_000;

function setup() {
  const documents = createDocumentStore({ kind: 'memory' });
  const clock = new ManualClock();
  const lease = (owner: string) => new Lease(documents, 'outbox-relay', owner, TTL, clock);
  return { documents, clock, lease };
}

/** Work that records its starts and stops. */
function recorder(log: string[], name: string) {
  return {
    start: async () => {
      log.push(`${name} start`);
    },
    stop: async () => {
      log.push(`${name} stop`);
    },
  };
}

const logger = loggerFor('test');
// Timer renewals never fire within a test: each one calls check() itself.
const options = { renewEveryMs: 3_600_000, logger };

describe('Lease', () => {
  it('has one holder until it expires; the holder renews; another takes it over only after expiry', async () => {
    const { clock, lease } = setup();
    const a = lease('a');
    const b = lease('b');
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    clock.advance(TTL - 1);
    expect(await a.acquire()).toBe(true); // renewed: expires TTL from now
    clock.advance(TTL - 1);
    expect(await b.acquire()).toBe(false);
    clock.advance(2);
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
  });

  it('released, it can be taken at once', async () => {
    const { documents, lease } = setup();
    const a = lease('a');
    const b = lease('b');
    await a.acquire();
    await b.release(); // not b's: no effect
    expect(await b.acquire()).toBe(false);
    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(await leases(documents).get('outbox-relay')).toMatchObject({ owner: 'b' });
  });
});

describe('LeasedRunner', () => {
  it('runs the work in one process only, hands it over on stop, and stops it when the lease is lost', async () => {
    const { clock, lease } = setup();
    const log: string[] = [];
    const first = new LeasedRunner(lease('a'), recorder(log, 'a'), options);
    const second = new LeasedRunner(lease('b'), recorder(log, 'b'), options);
    await first.start();
    await second.start();
    expect([first.isActive, second.isActive]).toEqual([true, false]);
    expect(log).toEqual(['a start']);

    await first.stop(); // releases
    await second.check();
    expect(second.isActive).toBe(true);
    expect(log).toEqual(['a start', 'a stop', 'b start']);

    // b stops renewing (a paused process); after the TTL, a third process takes over; b notices.
    const third = new LeasedRunner(lease('c'), recorder(log, 'c'), options);
    await third.start();
    expect(third.isActive).toBe(false);
    clock.advance(TTL + 1);
    await third.check();
    await second.check();
    expect([second.isActive, third.isActive]).toEqual([false, true]);
    expect(log.slice(3)).toEqual(['c start', 'b stop']);
    await second.stop();
    await third.stop();
    expect(log.slice(5)).toEqual(['c stop']);
  });

  it('keeps running when a renewal fails (the store is briefly unavailable)', async () => {
    const { documents, clock } = setup();
    const log: string[] = [];
    const lease = new Lease(documents, 'outbox-relay', 'a', TTL, clock);
    const runner = new LeasedRunner(lease, recorder(log, 'a'), options);
    await runner.start();
    const acquire = jest.spyOn(lease, 'acquire').mockRejectedValueOnce(new Error('store unavailable'));
    await runner.check();
    expect(runner.isActive).toBe(true);
    expect(acquire).toHaveBeenCalledTimes(1);
    await runner.stop();
    expect(log).toEqual(['a start', 'a stop']);
  });

  it('takes a dead holder\'s lease as its term ends, not a renewal interval later', async () => {
    const documents = createDocumentStore({ kind: 'memory' });
    const ttlMs = 300;
    // The holder took the lease, then died: it never renews nor releases it.
    expect(await new Lease(documents, 'outbox-relay', 'dead', ttlMs, systemClock).acquire()).toBe(true);
    const log: string[] = [];
    const standby = new LeasedRunner(new Lease(documents, 'outbox-relay', 'standby', ttlMs, systemClock), recorder(log, 'standby'), {
      renewEveryMs: 60_000,
      logger,
    });
    const started = Date.now();
    await standby.start();
    expect(standby.isActive).toBe(false);
    await eventually(() => standby.isActive, 'the standby to take the lease', 5_000);
    // Within the term (300 ms) plus scheduling, far below the 60 s renewal interval.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(log).toEqual(['standby start']);
    await standby.stop();
  });
});
