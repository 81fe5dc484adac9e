// The stream processor in the product's shape (store follower, checkpoint in the DocumentStore, ticks
// appended to the store): a restart mid-window neither loses nor double-counts, and a replay from
// scratch appends nothing new.
import { ManualClock } from '../../platform/clock';
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { loggerFor } from '../../platform/logger';
import { StreamProcessorRunner } from '../../subgraphs/analytics/stream/processor-runner';
import type { DocumentStore } from '../../messaging/state/document-store';

const MINUTE = 60_000;

describe('stream processor runner', () => {
  let backends: Backends;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock('2025-01-15T10:00:00.000Z');
    backends = await createMemoryBackends(clock);
  });
  afterEach(async () => backends.close());

  const runner = (documents: DocumentStore = backends.documents) =>
    new StreamProcessorRunner({ store: backends.store, documents, clock, logger: loggerFor('test'), allowedLatenessMs: 30_000, tickMs: 0, pollIntervalMs: 10, checkpointIntervalMs: 0 });

  async function login(memberId: string, n: number): Promise<void> {
    await backends.store.append(`activity-${memberId}-${n}`, [{ type: 'member.login', payload: { memberId, activityId: `a${n}`, location: 'Berlin', ip: null, device: null } }], {
      expectedVersion: 'any',
      context: { correlationId: 'test' },
    });
  }

  async function outputs(): Promise<AnyEventEnvelope[]> {
    const all: AnyEventEnvelope[] = [];
    for await (const batch of backends.store.readAll({ types: ['member.activity.summary', 'member.engagement.score', 'member.risk.assessment'] })) all.push(...batch);
    return all;
  }

  async function settle(r: StreamProcessorRunner): Promise<void> {
    r.wake();
    await r.caughtUp();
  }

  it('restarts mid-window from its checkpoint without losing or double-counting the window', async () => {
    const first = runner();
    await first.start();
    await login('m1', 1);
    await login('m1', 2);
    await settle(first);
    await first.stop();

    await login('m1', 3);
    const second = runner();
    await second.start();
    await settle(second);
    clock.advance(5 * MINUTE + 30_000);
    expect(await second.tick()).toBe(true);
    await settle(second);
    const summaries = (await outputs()).filter((e) => e.type === 'member.activity.summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.payload).toMatchObject({ memberId: 'm1', counts: { logins: 3 }, total: 3 });
    await second.stop();
  });

  it('after a crash (no clean stop) resumes from the last checkpoint and appends each output once', async () => {
    const crashed = runner();
    await crashed.start();
    await login('m1', 1);
    await settle(crashed);
    // Simulated crash: the follower stops, but the final checkpoint is not written.
    await (crashed as unknown as { follower: { stop(): Promise<void> } }).follower.stop();
    await login('m2', 2);
    clock.advance(6 * MINUTE);
    const restarted = runner();
    await restarted.start();
    await restarted.tick();
    await settle(restarted);
    const summaries = (await outputs()).filter((e) => e.type === 'member.activity.summary');
    expect(summaries.map((e) => e.payload)).toEqual([
      expect.objectContaining({ memberId: 'm1', total: 1 }),
      expect.objectContaining({ memberId: 'm2', total: 1 }),
    ]);
    await restarted.stop();
  });

  it('replaying the same events from scratch produces the same outputs, so nothing new is appended', async () => {
    const live = runner();
    await live.start();
    for (let i = 0; i < 6; i++) await login(`m${i % 3}`, i);
    await settle(live);
    clock.advance(6 * MINUTE);
    expect(await live.tick()).toBe(true);
    await settle(live);
    await live.stop();
    const before = await outputs();
    expect(before).toHaveLength(9);

    const replay = runner(createDocumentStore({ kind: 'memory' }));
    await replay.start();
    await settle(replay);
    expect(await outputs()).toEqual(before);
    await replay.stop();
  });
});
