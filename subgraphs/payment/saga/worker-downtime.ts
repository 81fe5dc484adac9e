// When no worker ran: every saga timeout scan writes a heartbeat, and a gap between two heartbeats
// longer than a few scan intervals is recorded as a pause. A step deadline counts only the time
// workers could work on the step, so a restart (or a store outage that stopped the scans) does not
// eat into it: after a 63 s restart, a saga whose reply waits in the queue still completes.
import type { Doc, DocumentStore } from '../../../messaging/state/document-store';

export interface Pause {
  readonly from: string;
  readonly to: string;
}

export interface DowntimeRecord extends Doc {
  readonly lastBeatAt: string;
  /** Gaps between heartbeats, oldest first; those older than PAUSE_RETENTION_MS are forgotten. */
  readonly pauses: readonly Pause[];
}

export const DOWNTIME_COLLECTION = 'worker_downtime';
const RECORD_ID = 'order-saga';
/** Pauses are kept this long: a step open for longer than this is overdue whatever its pauses. */
export const PAUSE_RETENTION_MS = 7 * 24 * 3_600_000;
const MAX_PAUSES = 500;

/** The gap between heartbeats that counts as downtime, for scans every `scanIntervalMs`. */
export function downtimeGapMs(scanIntervalMs: number): number {
  return Math.max(5 * scanIntervalMs, 5000);
}

/** The record after a heartbeat at `now` (pure). A clock that went back changes nothing. */
export function recordBeat(current: DowntimeRecord | null, now: Date, maxGapMs: number): DowntimeRecord {
  const at = now.toISOString();
  if (!current) return { id: RECORD_ID, lastBeatAt: at, pauses: [] };
  const last = new Date(current.lastBeatAt).getTime();
  if (now.getTime() <= last) return current;
  const horizon = now.getTime() - PAUSE_RETENTION_MS;
  const kept = current.pauses.filter((p) => new Date(p.to).getTime() >= horizon);
  const pauses = now.getTime() - last > maxGapMs ? [...kept, { from: current.lastBeatAt, to: at }] : kept;
  return { id: current.id, lastBeatAt: at, pauses: pauses.slice(-MAX_PAUSES) };
}

/** Milliseconds of `pauses` between `from` and `to`. */
export function pausedMs(pauses: readonly Pause[], from: Date, to: Date): number {
  let total = 0;
  for (const p of pauses) {
    const start = Math.max(new Date(p.from).getTime(), from.getTime());
    const end = Math.min(new Date(p.to).getTime(), to.getTime());
    if (end > start) total += end - start;
  }
  return total;
}

/**
 * Whether a step whose deadline (start + stepTimeoutMs) is `deadlineAt` has used up its time at
 * `now`, not counting the pauses since it started.
 */
export function stepOverdue(deadlineAt: string, stepTimeoutMs: number, now: Date, pauses: readonly Pause[]): boolean {
  const deadline = new Date(deadlineAt).getTime();
  if (deadline > now.getTime()) return false;
  const startedAt = new Date(deadline - stepTimeoutMs);
  return deadline + pausedMs(pauses, startedAt, now) <= now.getTime();
}

/** The heartbeat of the saga's workers, shared by every worker process through the document store. */
export class WorkerDowntime {
  constructor(
    private readonly documents: DocumentStore,
    private readonly maxGapMs: number,
  ) {}

  /** Record that a worker runs at `now`; resolves to the pauses known so far (this gap included). */
  async beat(now: Date): Promise<readonly Pause[]> {
    const stored = await this.documents
      .collection<DowntimeRecord>(DOWNTIME_COLLECTION)
      .update(RECORD_ID, (current) => recordBeat(current, now, this.maxGapMs));
    return stored?.pauses ?? [];
  }
}
