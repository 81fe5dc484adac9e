// Two processes' backends on one store and one broker (as a subgraph and a worker share them): what
// one appends wakes the other's followers through RabbitMQ at once, not at their next poll; a process
// is not told of its own appends a second time.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends, type Backends } from '../../messaging/backends';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { loadConfig } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import { deleteQueues, isolatedBroker } from '../support/rabbit';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

describe('append announcements over RabbitMQ', () => {
  const prefix = `t${randomUUID().slice(0, 8)}.`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'announcements-'));
  let subgraph: Backends;
  let worker: Backends;
  let follower: StoreFollower | null = null;

  beforeAll(async () => {
    const cfg = loadConfig({ DATA_DIR: dataDir, RABBITMQ_URL, LOG_LEVEL: 'warn', ...isolatedBroker(prefix) });
    subgraph = await createBackends(cfg);
    worker = await createBackends(cfg);
  });
  afterAll(async () => {
    await follower?.stop();
    await subgraph.close();
    await worker.close();
    await deleteQueues(RABBITMQ_URL, [], { exchange: isolatedBroker(prefix).RABBITMQ_EXCHANGE });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("wakes another process's follower at once, and tells no process of its own appends twice", async () => {
    // The worker's follower polls once an hour: only an announcement can wake it within the test.
    const handled: AnyEventEnvelope[] = [];
    let seen: ((event: AnyEventEnvelope) => void) | null = null;
    follower = new StoreFollower(
      'test-follower',
      worker.store,
      memoryCheckpoint(),
      async (batch) => {
        handled.push(...batch);
        for (const event of batch) seen?.(event);
      },
      loggerFor('test'),
      { pollIntervalMs: 3_600_000, types: ['member.created'] },
    );
    worker.onAppend((appended) => follower?.wake(appended));
    await follower.start();

    const told: string[][] = [];
    let toldOf: ((types: readonly string[]) => void) | null = null;
    subgraph.onAppend((appended) => {
      const types = appended.map((e) => e.type);
      told.push(types);
      toldOf?.(types);
    });

    const arrived = new Promise<AnyEventEnvelope>((resolve) => (seen = resolve));
    const appended = await subgraph.store.append(
      'member-announced',
      [{ type: 'member.created', payload: { memberId: 'announced', email: 'a@example.org', firstName: 'An', lastName: 'Nounced', tier: 'basic' } }],
      { expectedVersion: 0, context: { correlationId: 'announce-test' } },
    );
    expect((await arrived).id).toBe(appended.events[0]?.id);

    // The worker appends in turn; the subgraph hears of it. Its own announcement was queued for it
    // before this one, so had it been passed on, it would have been told of member.created again.
    const heard = new Promise<readonly string[]>((resolve) => (toldOf = resolve));
    await worker.store.append('sync-announced', [{ type: 'sync.completed', payload: { memberId: 'announced', system: 'crm', sourceEventId: appended.events[0]?.id ?? '' } }], {
      expectedVersion: 'any',
      context: { correlationId: 'announce-test' },
    });
    expect(await heard).toEqual(['sync.completed']);
    expect(told).toEqual([['member.created'], ['sync.completed']]);
    expect(handled.map((e) => e.type)).toEqual(['member.created']);
  });
});
