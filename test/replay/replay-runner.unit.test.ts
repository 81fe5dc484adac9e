// The replay service end to end in memory (in-process bus, memory stores, a moved clock for the
// event times): exactly the range, replay flags, errors dead-lettered, cancel, projection rebuild
// equal to the live build and swapped in while queries keep answering.
import { defineConsumer } from '../../messaging/consumers/consumer-definition';
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { hasTemporaryTopics } from '../../messaging/bus/event-bus';
import { ReplayRunner, replayTopicOf } from '../../messaging/replay/replay-runner';
import { ReplayService } from '../../messaging/replay/replay-service';
import { consumerTarget, projectionTarget } from '../../messaging/replay/replay-targets';
import { ActiveVersions, VERSION_SWAP_EVENT_TYPES, projectionVersions, versionedCollection } from '../../messaging/replay/projection-versions';
import { emptyProgress, replaysCollection, type ReplayDoc } from '../../messaging/replay/replay-model';
import { memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import { ManualClock } from '../../platform/clock';
import { DomainError } from '../../platform/errors';
import { loggerFor } from '../../platform/logger';
import { MemberService } from '../../subgraphs/member/domain/member-service';
import { memberEventTypes, memberReadModelProjection, membersCollection } from '../../subgraphs/member/projections/member-read-model';
import { memberReadModelRebuild } from '../../subgraphs/member/projections/member-read-model';
import { eventually } from '../support/wait';
import { countingDocuments } from '../support/counting-documents';

const logger = loggerFor('replay-test');
const admin = { sub: 'admin-1', role: 'admin' as const, expiresAt: null };
const ctx = { correlationId: 'test' };

interface Seen {
  readonly event: AnyEventEnvelope;
  readonly replay: boolean;
}

describe('replay runner (in memory)', () => {
  let clock: ManualClock;
  let backends: Backends;
  let members: MemberService;
  let runner: ReplayRunner | null;
  let seen: Seen[];
  let gate: Promise<void> | null;
  let failOn: string | null;

  const recorder = defineConsumer({
    name: 'recorder',
    handles: ['member.created', 'member.profile.updated'],
    async handle(event, c) {
      seen.push({ event, replay: c.replay });
      if (gate) await gate;
      if (event.id === failOn) throw new DomainError('BAD_USER_INPUT', 'this event cannot be processed');
    },
  });

  beforeEach(async () => {
    clock = new ManualClock('2025-03-01T10:00:00.000Z');
    backends = await createMemoryBackends(clock);
    members = new MemberService(backends.store, backends.documents, clock, 50);
    runner = null;
    seen = [];
    gate = null;
    failOn = null;
  });
  afterEach(async () => {
    await runner?.stop();
    await backends.close();
  });

  async function startRunner(): Promise<{ service: ReplayService }> {
    runner = new ReplayRunner({ ...backends, store: backends.store, bus: backends.bus, documents: backends.documents, clock, logger }, [consumerTarget(recorder, 'live.recorder'), projectionTarget(memberReadModelRebuild as never)], {
      queuePrefix: 'test.',
      pollIntervalMs: 5,
      progressIntervalMs: 250,
    });
    const started = runner;
    await started.start();
    return { service: new ReplayService(backends.documents, backends.store, clock, () => started.wake()) };
  }

  async function createAt(at: string, id: string) {
    clock.set(at);
    await members.create(admin, { id, email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' }, ctx);
  }

  const finished = (service: ReplayService, id: string) =>
    eventually(async () => {
      const doc = await service.get(id);
      return doc && ['completed', 'cancelled', 'failed'].includes(doc.status) ? doc : null;
    }, `replay ${id} to finish`);

  it('replays exactly the events recorded in [from, to), flagged as replays with their original position', async () => {
    await createAt('2025-03-01T10:00:00.000Z', 'before');
    await createAt('2025-03-01T11:00:00.000Z', 'first');
    await createAt('2025-03-01T11:30:00.000Z', 'second');
    await createAt('2025-03-01T12:00:00.000Z', 'at-to');
    clock.set('2025-03-01T13:00:00.000Z');
    const { service } = await startRunner();

    const requested = await service.start(
      { from: new Date('2025-03-01T11:00:00.000Z'), to: new Date('2025-03-01T12:00:00.000Z'), targets: ['recorder'] },
      { id: 'admin-1', correlationId: 'c-1' },
    );
    expect(requested.status).toBe('pending');
    const done = await finished(service, requested.id);

    expect(done).toMatchObject({ status: 'completed', events: 2 });
    expect(seen.map((s) => (s.event.payload as { memberId: string }).memberId)).toEqual(['first', 'second']);
    expect(seen.every((s) => s.replay)).toBe(true);
    for (const { event } of seen) {
      expect(event.metadata.replay).toBe(true);
      expect(event.metadata.replayInfo).toEqual({ replayId: requested.id, originalPosition: event.position, batch: expect.stringMatching(/^\d+-\d+$/) });
    }
    expect(done.stats).toMatchObject({ events: 2, processed: 2, total: 2, errors: 0, targets: [{ name: 'recorder', total: 2, processed: 2, errors: 0 }] });
    // Lifecycle events are stored; the topic is gone.
    const lifecycle: string[] = [];
    for await (const batch of backends.store.readAll({ types: ['replay.started', 'replay.progressed', 'replay.completed'] })) {
      lifecycle.push(...batch.map((e) => e.type));
    }
    expect(lifecycle[0]).toBe('replay.started');
    expect(lifecycle.at(-1)).toBe('replay.completed');
    if (!hasTemporaryTopics(backends.bus)) throw new Error('bus without topics');
    await expect(backends.bus.publish([seen[0]!.event], { topic: replayTopicOf(requested.id) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('counts and dead-letters a failing delivery, never drops it, and finishes the rest', async () => {
    await createAt('2025-03-01T10:00:00.000Z', 'a');
    await createAt('2025-03-01T10:01:00.000Z', 'b');
    await createAt('2025-03-01T10:02:00.000Z', 'c');
    clock.set('2025-03-01T11:00:00.000Z');
    const stored: AnyEventEnvelope[] = [];
    for await (const batch of backends.store.readAll({ types: ['member.created'] })) stored.push(...batch);
    failOn = stored[1]!.id;
    const { service } = await startRunner();
    const requested = await service.start(
      { from: new Date('2025-03-01T00:00:00.000Z'), to: new Date('2025-03-01T11:00:00.000Z'), targets: ['recorder'] },
      { id: 'admin-1', correlationId: 'c-2' },
    );
    const done = await finished(service, requested.id);
    expect(done.status).toBe('completed');
    expect(done.stats).toMatchObject({ events: 3, processed: 3, errors: 1 });
    expect(done.errorSamples).toEqual([expect.objectContaining({ target: 'recorder', eventId: failOn, reason: expect.stringContaining('cannot be processed') })]);
    const queue = done.stats?.targets[0]?.deadLetterQueue;
    expect(queue).toBe(`test.replay.${requested.id}.recorder`);
    expect(await backends.bus.deadLetterCount(queue!)).toBe(1);
  });

  it('cancels a running replay: stops publishing, deletes the topic, records how far it got', async () => {
    for (let i = 0; i < 5; i++) await createAt(`2025-03-01T10:0${i}:00.000Z`, `m${i}`);
    clock.set('2025-03-01T11:00:00.000Z');
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const { service } = await startRunner();
    const requested = await service.start(
      { from: new Date('2025-03-01T00:00:00.000Z'), to: new Date('2025-03-01T11:00:00.000Z'), targets: ['recorder'] },
      { id: 'admin-1', correlationId: 'c-3' },
    );
    await eventually(() => seen.length === 1, 'the first delivery to be held');
    const cancelling = await service.cancel(requested.id);
    expect(cancelling.cancelRequested).toBe(true);
    release();
    const done = await finished(service, requested.id);
    expect(done.status).toBe('cancelled');
    expect(done.stats?.processed).toBeLessThanOrEqual(5);
    await expect(service.cancel(requested.id)).resolves.toMatchObject({ status: 'cancelled' });
    const types: string[] = [];
    for await (const batch of backends.store.readAll({ types: ['replay.cancelled'] })) types.push(...batch.map((e) => e.type));
    expect(types).toEqual(['replay.cancelled']);
  });

  it('rebuilds the member read model into a new version equal to the live one, then swaps it in while queries keep answering', async () => {
    const live = versionedCollection(backends.documents, 'member-read-model', 'members', (name) => membersCollection(backends.documents, name));
    const follower = new StoreFollower('member-read-model', backends.store, memoryCheckpoint(), memberReadModelProjection(live), logger, {
      types: memberEventTypes,
      pollIntervalMs: 5,
    });
    await follower.start();
    try {
      for (let i = 0; i < 20; i++) await createAt(`2025-03-01T10:${String(i).padStart(2, '0')}:00.000Z`, `r${i}`);
      for (let i = 0; i < 20; i += 3) await members.updateProfile(`r${i}`, { firstName: `Changed${i}` }, 1, ctx);
      await members.renew(admin, 'r4', { months: 12, tier: 'premium' }, undefined, ctx);
      await follower.caughtUp();
      const before = await live.find();
      clock.set('2025-03-01T12:00:00.000Z');
      const { service } = await startRunner();
      const requested = await service.rebuildProjection('member-read-model', { id: 'admin-1', correlationId: 'c-4' });
      // Queries keep answering from the live version during the rebuild.
      expect(await live.count()).toBe(20);
      const done = await finished(service, requested.id);
      expect(done).toMatchObject({ status: 'completed', kind: 'rebuild' });

      const pointer = await projectionVersions(backends.documents).get('member-read-model');
      expect(pointer).toMatchObject({ active: 'members_v2', previous: 'members', building: null, version: 2 });
      const rebuilt = await membersCollection(backends.documents, 'members_v2').find();
      expect(rebuilt).toEqual(before);
      expect(await live.find()).toEqual(before);

      // After the swap the live projection writes the new version.
      await members.updateProfile('r1', { lastName: 'Byron' }, 1, ctx);
      await follower.caughtUp();
      expect((await membersCollection(backends.documents, 'members_v2').get('r1'))?.lastName).toBe('Byron');
      expect((await live.get('r1'))?.lastName).toBe('Byron');
    } finally {
      await follower.stop();
    }
  });

  it('a reader remembers the active version instead of reading the pointer per call, and reads the new one once the rebuild\'s end reaches it', async () => {
    const live = versionedCollection(backends.documents, 'member-read-model', 'members', (name) => membersCollection(backends.documents, name));
    const follower = new StoreFollower('member-read-model', backends.store, memoryCheckpoint(), memberReadModelProjection(live), logger, {
      types: memberEventTypes,
      pollIntervalMs: 5,
    });
    // The reader as the member subgraph builds it: remembered versions, forgotten by a follower of replays' ends.
    const counted = countingDocuments(backends.documents);
    const versions = new ActiveVersions(counted);
    const reader = versionedCollection(counted, 'member-read-model', 'members', (name) => membersCollection(counted, name), versions);
    const swaps = new StoreFollower('member-read-model-version', backends.store, memoryCheckpoint(), async (batch) => versions.observe(batch), logger, {
      types: VERSION_SWAP_EVENT_TYPES,
      pollIntervalMs: 5,
    });
    await follower.start();
    await swaps.start();
    try {
      for (let i = 0; i < 3; i++) await createAt(`2025-03-01T10:0${i}:00.000Z`, `r${i}`);
      await follower.caughtUp();
      counted.reset();
      for (let i = 0; i < 5; i++) expect((await reader.get('r1'))?.lastName).toBe('Lovelace');
      expect(await reader.count()).toBe(3);
      expect(counted.reads('projection_versions', 'get')).toBe(1);

      clock.set('2025-03-01T12:00:00.000Z');
      const { service } = await startRunner();
      const requested = await service.rebuildProjection('member-read-model', { id: 'admin-1', correlationId: 'c-5' });
      expect(await finished(service, requested.id)).toMatchObject({ status: 'completed', kind: 'rebuild' });
      // Written to the new version only (writers read the pointer every time); the reader finds it
      // once replay.completed reached its follower.
      await members.updateProfile('r1', { lastName: 'Byron' }, 1, ctx);
      await follower.caughtUp();
      expect((await membersCollection(backends.documents, 'members').get('r1'))?.lastName).toBe('Lovelace');
      await eventually(async () => (await reader.get('r1'))?.lastName === 'Byron', 'the reader to read the swapped-in version');
      const pointerReads = counted.reads('projection_versions', 'get');
      for (let i = 0; i < 5; i++) await reader.get('r2');
      expect(counted.reads('projection_versions', 'get')).toBe(pointerReads);
    } finally {
      await swaps.stop();
      await follower.stop();
    }
  });

  it('fails a replay left running by a worker that stopped heartbeating, with its progress and replay.failed; a live one is left alone', async () => {
    clock.set('2025-03-01T13:00:00.000Z');
    await startRunner();
    const replays = replaysCollection(backends.documents);
    const left = (id: string, heartbeatAt: string): ReplayDoc => ({
      id,
      kind: 'replay',
      status: 'running',
      from: '2025-03-01T10:00:00.000Z',
      to: '2025-03-01T12:00:00.000Z',
      types: null,
      targets: ['recorder'],
      requestedBy: 'admin-1',
      requestedAt: '2025-03-01T13:00:00.000Z',
      correlationId: `c-${id}`,
      claimedBy: 'another-worker:1',
      startedAt: '2025-03-01T13:00:00.000Z',
      finishedAt: null,
      cancelRequested: false,
      events: 10,
      progress: { ...emptyProgress([{ name: 'recorder', kind: 'consumer' }]), processed: 4, total: 10 },
      stats: null,
      error: null,
      errorSamples: [],
      startedPosition: null,
      heartbeatAt,
    });
    await replays.put(left('r-dead', '2025-03-01T13:00:00.000Z'));
    await replays.put(left('r-alive', '2025-03-01T13:00:20.000Z'));
    clock.set('2025-03-01T13:00:31.000Z');
    runner?.wake();
    const failed = await eventually(async () => {
      const doc = await replays.get('r-dead');
      return doc?.status === 'failed' ? doc : null;
    }, 'the stale replay to be failed');
    expect(failed).toMatchObject({ finishedAt: '2025-03-01T13:00:31.000Z', stats: { processed: 4, total: 10, events: 10, durationMs: 31_000 } });
    expect(failed.error).toMatch(/stopped \(no heartbeat since 2025-03-01T13:00:00.000Z\).*Start it again/);
    expect((await backends.store.readStream('replay-r-dead')).map((e) => [e.type, e.correlationId])).toEqual([['replay.failed', 'c-r-dead']]);
    // Considered in the same pass, and fresh enough.
    expect(await replays.get('r-alive')).toMatchObject({ status: 'running', error: null });
  });

  it('empties the version a dead worker\'s rebuild left half built, and keeps the active one', async () => {
    clock.set('2025-03-01T13:00:00.000Z');
    await startRunner();
    const pointers = projectionVersions(backends.documents);
    await pointers.put({ id: 'member-read-model', active: 'members', version: 1, previous: null, building: 'members_v2', swappedAt: null });
    await membersCollection(backends.documents, 'members_v2').put({ id: 'half', version: 1 } as never);
    await replaysCollection(backends.documents).put({
      id: 'r-rebuild',
      kind: 'rebuild',
      status: 'running',
      from: '1970-01-01T00:00:00.000Z',
      to: '2025-03-01T13:00:00.000Z',
      types: null,
      targets: ['member-read-model'],
      requestedBy: 'admin-1',
      requestedAt: '2025-03-01T13:00:00.000Z',
      correlationId: 'c-rebuild',
      claimedBy: 'another-worker:1',
      startedAt: '2025-03-01T13:00:00.000Z',
      finishedAt: null,
      cancelRequested: false,
      events: 0,
      progress: emptyProgress([{ name: 'member-read-model', kind: 'projection' }]),
      stats: null,
      error: null,
      errorSamples: [],
      startedPosition: null,
      heartbeatAt: '2025-03-01T13:00:00.000Z',
    });
    clock.set('2025-03-01T13:01:00.000Z');
    runner?.wake();
    await eventually(async () => (await replaysCollection(backends.documents).get('r-rebuild'))?.status === 'failed', 'the stale rebuild to be failed');
    await eventually(async () => (await pointers.get('member-read-model'))?.building === null, 'the half-built version to be forgotten');
    expect(await pointers.get('member-read-model')).toMatchObject({ active: 'members', building: null });
    expect(await membersCollection(backends.documents, 'members_v2').count()).toBe(0);
  });

  it('refuses unknown targets, empty, future or pre-2000 ranges, naming the field', async () => {
    clock.set('2025-03-01T11:00:00.000Z');
    const { service } = await startRunner();
    const who = { id: 'admin-1', correlationId: 'c' };
    const range = { from: new Date('2025-03-01T10:00:00.000Z'), to: new Date('2025-03-01T10:30:00.000Z') };
    await expect(service.start({ ...range, targets: ['nope'] }, who)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'targets' } });
    await expect(service.start({ from: range.to, to: range.from, targets: ['recorder'] }, who)).rejects.toMatchObject({ details: { field: 'from' } });
    await expect(service.start({ from: range.from, to: new Date('2025-03-01T12:00:00.000Z'), targets: ['recorder'] }, who)).rejects.toMatchObject({
      details: { field: 'to' },
    });
    await expect(service.start({ from: new Date(0), to: range.to, targets: ['recorder'] }, who)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'from' } });
    await expect(service.start({ from: new Date('0001-01-01T00:00:00Z'), to: range.to, targets: ['recorder'] }, who)).rejects.toMatchObject({ details: { field: 'from' } });
    await expect(service.start({ ...range, types: ['no.such'], targets: ['recorder'] }, who)).rejects.toMatchObject({ details: { field: 'types' } });
    await expect(service.start({ ...range, targets: ['recorder', 'member-read-model'] }, who)).rejects.toMatchObject({ details: { field: 'targets' } });
  });
});

export type { ReplayDoc };
