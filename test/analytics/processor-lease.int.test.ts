// Several analytics instances on one deployment: the stream processor runs in one of them (the holder
// of its lease), the others answer its status from the last checkpoint, and when the holder stops
// another takes over from that checkpoint, neither losing nor repeating what was processed.
import { ManualClock } from '../../platform/clock';
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { createAnalyticsModule, type AnalyticsModule } from '../../subgraphs/analytics/module';

const config = { FOLLOWER_POLL_MS: 10, ANALYTICS_ALLOWED_LATENESS_MS: 30_000, ANALYTICS_TICK_MS: 0, QUEUE_PREFIX: 'membership.' };

describe('the stream processor across analytics instances', () => {
  let backends: Backends;
  let clock: ManualClock;
  const modules: AnalyticsModule[] = [];

  beforeEach(async () => {
    clock = new ManualClock('2025-01-15T10:00:00.000Z');
    backends = await createMemoryBackends(clock);
  });
  afterEach(async () => {
    for (const module of modules.splice(0)) await module.close();
    await backends.close();
  });

  async function instance(): Promise<AnalyticsModule> {
    const module = await createAnalyticsModule(backends, config);
    modules.push(module);
    await module.start();
    return module;
  }

  async function login(memberId: string, n: number): Promise<void> {
    await backends.store.append(`activity-${memberId}-${n}`, [{ type: 'member.login', payload: { memberId, activityId: `a${n}`, location: 'Berlin', ip: null, device: null } }], {
      expectedVersion: 'any',
      context: { correlationId: 'test' },
    });
  }

  it('runs in one instance only; another takes over from its checkpoint when it stops', async () => {
    const first = await instance();
    const second = await instance();
    expect(first.processorLease.isActive).toBe(true);
    expect(second.processorLease.isActive).toBe(false);

    await login('m1', 1);
    await login('m2', 2);
    await first.processor.caughtUp();
    expect(first.processor.stats()).toMatchObject({ processed: 2, members: 2 });
    // The standby processed nothing itself.
    expect(second.processor.stats().processed).toBe(0);

    // The holder stops: it saves its checkpoint and gives the lease up.
    await first.close();
    modules.splice(modules.indexOf(first), 1);
    expect(await second.processor.savedStats()).toMatchObject({ processed: 2, members: 2, openWindows: 2 });
    await second.processorLease.check();
    expect(second.processorLease.isActive).toBe(true);
    // It resumed from the checkpoint: what the first processed is neither lost nor counted again.
    await login('m1', 3);
    await second.processor.caughtUp();
    expect(second.processor.stats()).toMatchObject({ processed: 3, members: 2 });
  });

  it('is taken over when its holder dies without giving the lease up, once the lease expires', async () => {
    const first = await instance();
    const second = await instance();
    await login('m1', 1);
    await first.processor.caughtUp();
    // The holder freezes: it renews no more (its timer would; a frozen process does not).
    clock.advance(10_000);
    await second.processorLease.check();
    expect(second.processorLease.isActive).toBe(false); // not expired yet
    clock.advance(6_000);
    await second.processorLease.check();
    expect(second.processorLease.isActive).toBe(true);
    await second.processor.caughtUp();
    // It started from the last checkpoint (none was saved yet: from the start), and caught up.
    expect(second.processor.stats().processed).toBe(1);
  });
});
