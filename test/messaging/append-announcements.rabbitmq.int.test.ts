// Two processes' backends on one store and one broker (as a subgraph and a worker share them): what
// one appends wakes the other's followers through RabbitMQ at once, not at their next poll; a process
// is not told of its own appends a second time; a process alone announces nothing.
import { Connection } from 'rabbitmq-client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends, type Backends } from '../../messaging/backends';
import { appendsExchangeOf } from '../../messaging/bus/rabbitmq-append-announcements';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { loadConfig } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import { createTestVhost, useTestVhost } from '../support/rabbit';

const broker = useTestVhost('announcements');

describe('append announcements over RabbitMQ', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'announcements-'));
  let subgraph: Backends;
  let worker: Backends;
  let follower: StoreFollower | null = null;

  beforeAll(async () => {
    const cfg = loadConfig({ DATA_DIR: dataDir, RABBITMQ_URL: broker.url, LOG_LEVEL: 'warn' });
    subgraph = await createBackends(cfg);
    worker = await createBackends(cfg);
    // Each hears the other's hello (or its answer) before either announces anything.
    await subgraph.announcements?.peersKnown(1);
    await worker.announcements?.peersKnown(1);
  });
  afterAll(async () => {
    await follower?.stop();
    await subgraph.close();
    await worker.close();
    await broker.delete();
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

  it('announces nothing while alone, and starts once another process says hello', async () => {
    // A deployment of its own (another vhost): the two processes of the first test are not its peers.
    const apart = await createTestVhost('announcements-alone');
    const exchange = appendsExchangeOf('events');
    const cfg = loadConfig({ DATA_DIR: path.join(dataDir, 'alone'), RABBITMQ_URL: apart.url, LOG_LEVEL: 'warn' });
    // An observer on the announcements exchange: it listens, but says no hello, so it is nobody's peer.
    const connection = new Connection(apart.url);
    const heard: { types: string[]; hello?: string }[] = [];
    let onHeard: (() => void) | null = null;
    const queue = `${exchange}.observer`;
    const observer = connection.createConsumer(
      { queue, noAck: true, queueOptions: { exclusive: true, autoDelete: true }, exchanges: [{ exchange, type: 'fanout', durable: true }], queueBindings: [{ exchange, queue, routingKey: '' }] },
      (message) => {
        heard.push(message.body as { types: string[]; hello?: string });
        onHeard?.();
      },
    );
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        onHeard = () => {
          if (done()) resolve();
        };
        onHeard();
      });
    await new Promise<void>((resolve) => observer.once('ready', () => resolve()));
    const alone = await createBackends(cfg);
    let second: Backends | null = null;
    try {
      const created = { type: 'member.created', payload: { memberId: 'alone', email: 'alone@example.org', firstName: 'A', lastName: 'Lone', tier: 'basic' } } as const;
      await alone.store.append('member-alone', [created], { expectedVersion: 0, context: { correlationId: 'alone-test' } });
      second = await createBackends(cfg);
      await alone.announcements?.peersKnown(1);
      // The answer to the newcomer's hello comes after anything the first process had sent before it.
      await until(() => heard.some((m) => m.hello === 'answer'));
      const beforeAnswer = heard.slice(0, heard.findIndex((m) => m.hello === 'answer'));
      // Before it: the two hellos (the first process's own, when it started, and the newcomer's).
      expect(beforeAnswer).toEqual([expect.objectContaining({ hello: 'ask', types: [] }), expect.objectContaining({ hello: 'ask', types: [] })]);

      await alone.store.append('member-alone', [{ type: 'member.profile.updated', payload: { memberId: 'alone', changes: { lastName: { before: 'Lone', after: 'Known' } } } }], {
        expectedVersion: 1,
        context: { correlationId: 'alone-test' },
      });
      await until(() => heard.some((m) => m.types.length > 0));
      expect(heard.filter((m) => m.types.length > 0)).toEqual([expect.objectContaining({ types: ['member.profile.updated'] })]);
    } finally {
      await second?.close();
      await alone.close();
      await observer.close();
      await connection.close();
      await apart.delete();
    }
  });
});
