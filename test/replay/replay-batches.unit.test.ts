// Replay batches at the consumer: one marker per batch still stops a second run of any event,
// whether the batch message is redelivered or one of its events comes back alone as a retry; the
// checkpoint moves once per batch; the markers are cleared with the run. And the member read model
// folds a batch per member without moving a document backwards.
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { clearReplayMarkers, replayBatchMarkers } from '../../messaging/consumers/consumer-records';
import { createIdempotentBatchHandler, createIdempotentHandler } from '../../messaging/consumers/idempotent-consumer';
import { defineConsumer } from '../../messaging/consumers/consumer-definition';
import { readConsumerCheckpoint } from '../../messaging/consumers/consumer-checkpoints';
import { asReplayed } from '../../messaging/replay/replay-runner';
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import { ManualClock } from '../../platform/clock';
import { DomainError } from '../../platform/errors';
import { memberReadModelProjection, membersCollection } from '../../subgraphs/member/projections/member-read-model';
import { delivery, eventAt } from '../support/consumer-fixtures';
import { makeEnvelope } from '../support/envelopes';

function recorder() {
  const seen: { id: string; replay: boolean }[] = [];
  let failOn: string | null = null;
  const definition = defineConsumer({
    name: 'crm',
    handles: ['member.created', 'member.profile.updated'],
    async handle(event, ctx) {
      seen.push({ id: event.id, replay: ctx.replay });
      if (event.id === failOn) throw new DomainError('UNAVAILABLE', 'not yet');
    },
  });
  return { definition, seen, failOn: (id: string | null) => (failOn = id) };
}

const batchOf = (events: readonly AnyEventEnvelope[], replayId = 'r-1') => {
  const batch = `${events[0]?.position}-${events[events.length - 1]?.position}`;
  return events.map((e) => asReplayed(e, replayId, batch));
};

describe('replay batches at an idempotent consumer', () => {
  const clock = new ManualClock('2025-03-01T12:00:00.000Z');

  it('runs each event of a batch once, in order, with the replay flag; a redelivered batch runs nothing', async () => {
    const store = new MemoryDocumentStore();
    const { definition, seen } = recorder();
    const handle = createIdempotentBatchHandler(store, definition, { clock });
    const events = batchOf([1, 2, 3].map((p) => eventAt('member.profile.updated', p)));

    expect(await handle(events, delivery())).toEqual(events.map(() => ({ kind: 'ack' })));
    expect(seen).toEqual(events.map((e) => ({ id: e.id, replay: true })));
    expect(await handle(events, delivery({ redelivered: true, attempt: 2 }))).toEqual(events.map(() => ({ kind: 'ack' })));
    expect(seen).toHaveLength(3);

    expect(await replayBatchMarkers(store).count()).toBe(1);
    expect(await readConsumerCheckpoint(store, 'crm')).toMatchObject({ replayed: 3, skippedDuplicates: 3, lastReplayId: 'r-1', processed: 0 });
  });

  it('settles a failing event alone; its retry is recorded in the batch, and neither a redelivered batch nor a late retry runs anything twice', async () => {
    const store = new MemoryDocumentStore();
    const { definition, seen, failOn } = recorder();
    const batchHandler = createIdempotentBatchHandler(store, definition, { clock });
    const single = createIdempotentHandler(store, definition, { clock });
    const events = batchOf([5, 6, 7].map((p) => eventAt('member.profile.updated', p)));
    const [first, flaky, third] = events as [AnyEventEnvelope, AnyEventEnvelope, AnyEventEnvelope];

    failOn(flaky.id);
    const outcomes = await batchHandler(events, delivery());
    expect(outcomes.map((o) => o.kind)).toEqual(['ack', 'retry', 'ack']);
    failOn(null);

    // The broker redelivers the batch (the ack was lost) before the retry comes back: only the
    // failed event runs; then its retry, alone, finds it recorded and runs nothing.
    expect((await batchHandler(events, delivery({ redelivered: true, attempt: 2 }))).map((o) => o.kind)).toEqual(['ack', 'ack', 'ack']);
    expect(await single(flaky, delivery({ attempt: 2 }))).toEqual({ kind: 'ack' });
    expect(seen.map((s) => s.id)).toEqual([first.id, flaky.id, third.id, flaky.id]);

    // The other order: a retry alone first, then the redelivered batch.
    const store2 = new MemoryDocumentStore();
    const other = recorder();
    const batch2 = createIdempotentBatchHandler(store2, other.definition, { clock });
    const single2 = createIdempotentHandler(store2, other.definition, { clock });
    other.failOn(flaky.id);
    await batch2(events, delivery());
    other.failOn(null);
    expect(await single2(flaky, delivery({ attempt: 2 }))).toEqual({ kind: 'ack' });
    await batch2(events, delivery({ redelivered: true, attempt: 2 }));
    expect(other.seen.map((s) => s.id)).toEqual([first.id, flaky.id, third.id, flaky.id]);
    expect(await readConsumerCheckpoint(store2, 'crm')).toMatchObject({ replayed: 3 });

    expect(await clearReplayMarkers(store2, 'crm', 'r-1')).toBe(3);
    expect(await replayBatchMarkers(store2).count()).toBe(0);
  });

  it('dead-letters an event whose handler refuses it, and leaves live events to the per-event markers', async () => {
    const store = new MemoryDocumentStore();
    const definition = defineConsumer({
      name: 'strict',
      handles: ['member.created'],
      async handle(event) {
        if (event.position === 2) throw new DomainError('BAD_USER_INPUT', 'broken payload');
      },
    });
    const handle = createIdempotentBatchHandler(store, definition, { clock });
    const replayed = batchOf([1, 2].map((p) => eventAt('member.created', p)));
    const live = eventAt('member.created', 3);
    const outcomes = await handle([...replayed, live, eventAt('email.sent', 4)], delivery());
    expect(outcomes.map((o) => o.kind)).toEqual(['ack', 'dead-letter', 'ack', 'ack']);
    expect(await readConsumerCheckpoint(store, 'strict')).toMatchObject({ replayed: 1, processed: 1, position: 3 });
  });
});

describe('member read model over a batch', () => {
  it('folds each member once per batch, equal to applying the events one by one, and never moves back', async () => {
    const store = new MemoryDocumentStore();
    const folded = membersCollection(store, 'folded');
    const oneByOne = membersCollection(store, 'one_by_one');
    const created = (memberId: string) =>
      makeEnvelope('member.created', { memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'L', tier: 'basic' }, { streamVersion: 1 });
    const renamed = (memberId: string, version: number, name: string) =>
      makeEnvelope('member.profile.updated', { memberId, changes: { firstName: { before: 'x', after: name } } }, { streamVersion: version });
    const batch = [created('a'), created('b'), renamed('a', 2, 'Ann'), renamed('b', 2, 'Bea'), renamed('a', 3, 'Anna')];

    await memberReadModelProjection(folded)(batch);
    for (const event of batch) await memberReadModelProjection(oneByOne)([event]);
    expect(await folded.find()).toEqual(await oneByOne.find());
    expect(await folded.get('a')).toMatchObject({ firstName: 'Anna', version: 3 });

    // An older batch again (a redelivery) changes nothing.
    await memberReadModelProjection(folded)([renamed('a', 2, 'Ann')]);
    expect(await folded.get('a')).toMatchObject({ firstName: 'Anna', version: 3 });
  });
});
