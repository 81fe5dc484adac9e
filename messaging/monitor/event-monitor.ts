// The event monitor of the seed's bus diagram: where every consumer, projection and the outbox relay
// stand against the store's head, dead-letter depth per queue, and the deployment's traffic per type.
// Everything here is read from the shared stores, so any process answers for the whole deployment.
import type { Backends } from '../backends';
import { listConsumerCheckpoints } from '../consumers/consumer-checkpoints';
import { listCheckpoints } from '../store/checkpoints';
import { readTraffic, type TypeCounts } from './traffic-stats';
import type { EventType } from '../events/catalog';

export interface ConsumerStatus {
  readonly name: string;
  readonly kind: 'consumer' | 'follower';
  readonly position: number;
  readonly lag: number;
  readonly processed: number | null;
  readonly skippedDuplicates: number | null;
  readonly deadLetters: number | null;
  readonly lastEventAt: string | null;
}

export interface EventMonitorSnapshot {
  readonly headPosition: number;
  readonly consumers: readonly ConsumerStatus[];
  readonly types: readonly TypeCounts[];
  readonly deadLetterTotal: number;
  readonly takenAt: string;
}

/** Lag counting reads at most this many events; beyond it the lag is reported as this number. */
const LAG_SCAN_LIMIT = 100_000;

/**
 * Events each consumer still has to process: those after its checkpoint of the types it handles.
 * One pass over the handled types from the slowest consumer's checkpoint, bounded by LAG_SCAN_LIMIT.
 */
async function pendingPerConsumer(
  store: Backends['store'],
  consumers: readonly { id: string; position: number; handles?: readonly string[] }[],
): Promise<Map<string, number>> {
  const pending = new Map(consumers.map((c) => [c.id, 0]));
  const byType = new Map<string, { id: string; position: number }[]>();
  for (const c of consumers) for (const type of c.handles ?? []) byType.set(type, [...(byType.get(type) ?? []), c]);
  if (consumers.length === 0 || byType.size === 0) return pending;
  const from = Math.min(...consumers.map((c) => c.position));
  let scanned = 0;
  // Only the handled types are read: a consumer of a rare type sits far behind the head, and the
  // events of other types in between concern nobody here.
  for await (const batch of store.readAll({ after: from, types: [...byType.keys()] as EventType[], batchSize: 1000 })) {
    for (const event of batch) {
      for (const c of byType.get(event.type) ?? []) {
        if (event.position > c.position) pending.set(c.id, (pending.get(c.id) ?? 0) + 1);
      }
    }
    scanned += batch.length;
    if (scanned >= LAG_SCAN_LIMIT) break;
  }
  return pending;
}

export async function eventMonitorSnapshot(backends: Pick<Backends, 'store' | 'bus' | 'documents' | 'clock'>): Promise<EventMonitorSnapshot> {
  const head = await backends.store.headPosition();
  const consumers: ConsumerStatus[] = [];
  const checkpoints = await listConsumerCheckpoints(backends.documents);
  const pending = await pendingPerConsumer(backends.store, checkpoints);
  for (const c of checkpoints) {
    consumers.push({
      name: c.id,
      kind: 'consumer',
      position: c.position,
      lag: pending.get(c.id) ?? 0,
      processed: c.processed,
      skippedDuplicates: c.skippedDuplicates,
      deadLetters: await backends.bus.deadLetterCount(c.id),
      lastEventAt: c.lastEventAt,
    });
  }
  for (const f of await listCheckpoints(backends.documents)) {
    consumers.push({
      name: f.name,
      kind: 'follower',
      position: f.position,
      lag: Math.max(0, head - f.position),
      processed: null,
      skippedDuplicates: null,
      deadLetters: null,
      lastEventAt: f.updatedAt,
    });
  }
  consumers.sort((a, b) => a.name.localeCompare(b.name));
  return {
    headPosition: head,
    consumers,
    types: await readTraffic(backends.documents),
    deadLetterTotal: consumers.reduce((sum, c) => sum + (c.deadLetters ?? 0), 0),
    takenAt: backends.clock.now().toISOString(),
  };
}
