// Pruning consumers' processed markers: those older than the retention go, oldest first and in
// batches; newer ones, and so the dedup of a recent redelivery, stay.
import { createIdempotentHandler } from '../../messaging/consumers/idempotent-consumer';
import { defineConsumer } from '../../messaging/consumers/consumer-definition';
import { processedMarkers } from '../../messaging/consumers/consumer-records';
import { MarkerPruner } from '../../messaging/consumers/marker-pruner';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { SqliteDocumentStore } from '../../messaging/state/sqlite-document-store';
import type { DocumentStore } from '../../messaging/state/document-store';
import { ManualClock } from '../../platform/clock';
import { loggerFor } from '../../platform/logger';
import { delivery, eventAt } from '../support/consumer-fixtures';

const HOUR = 3_600_000;

describe.each([
  ['memory', (): DocumentStore => createDocumentStore({ kind: 'memory' })],
  ['sqlite', (): DocumentStore => new SqliteDocumentStore({ file: ':memory:' })],
])('MarkerPruner (%s store)', (_name, create) => {
  it('deletes markers past the retention, oldest first across batches, and keeps the recent ones deduplicating', async () => {
    const store = create();
    const clock = new ManualClock('2025-03-01T00:00:00.000Z');
    const handled: string[] = [];
    const consumer = defineConsumer({
      name: 'crm',
      handles: ['member.created'],
      handle: async (event) => {
        handled.push(event.id);
      },
    });
    const handler = createIdempotentHandler(store, consumer, { clock });
    const old = Array.from({ length: 1200 }, (_, i) => eventAt('member.created', i + 1));
    for (const event of old) await handler(event, delivery());
    clock.advance(100 * HOUR);
    const recent = eventAt('member.created', 5000);
    await handler(recent, delivery());

    const pruner = new MarkerPruner(store, clock, loggerFor('test'), { retentionMs: 72 * HOUR, intervalMs: HOUR });
    expect(await pruner.prune()).toBe(1200);
    expect(await processedMarkers(store).count()).toBe(1);
    // The recent event's redelivery is still absorbed.
    await handler(recent, delivery({ redelivered: true }));
    expect(handled.filter((id) => id === recent.id)).toHaveLength(1);
    expect(await pruner.prune()).toBe(0);
    await store.close?.();
  });
});
