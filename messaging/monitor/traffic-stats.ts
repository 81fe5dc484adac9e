// The deployment's bus traffic per event type, for the event monitor: every process counts what its
// bus published and settled (a BusObserver) and adds its counts, written behind, to one shared
// document per type. The monitor reads those documents, so it shows every process (the worker's
// `sync.completed`, `email.sent`, ...), not only the one serving the query. Prometheus' /metrics
// stays per process (messaging/monitor/metrics.ts), as Prometheus sums instances itself.
import type { BusObserver, DeliverySettlement } from '../bus/event-bus';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import type { Clock } from '../../platform/clock';
import type { Logger } from '../../platform/logger';

export interface TypeCounts {
  readonly type: string;
  /** Times an event of this type was published to the bus. */
  readonly published: number;
  /** Deliveries acknowledged (one per queue that took the event: consumers and live feeds). */
  readonly consumed: number;
  readonly retried: number;
  /** Deliveries dead-lettered (or, on an exclusive queue, discarded). */
  readonly deadLettered: number;
}

interface TrafficDoc {
  /** The event type. */
  readonly id: string;
  readonly published: number;
  readonly consumed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly updatedAt: string;
}

type Counts = Omit<TypeCounts, 'type'>;

export const TRAFFIC_COLLECTION = 'event_traffic';
/** How long a process gathers counts before adding them to the shared documents. */
export const TRAFFIC_FLUSH_MS = 250;

function trafficDocs(documents: DocumentStore): DocumentCollection<TrafficDoc> {
  return documents.collection<TrafficDoc>(TRAFFIC_COLLECTION);
}

const zero = (): Counts => ({ published: 0, consumed: 0, retried: 0, deadLettered: 0 });

function add(a: Counts, b: Counts): Counts {
  return { published: a.published + b.published, consumed: a.consumed + b.consumed, retried: a.retried + b.retried, deadLettered: a.deadLettered + b.deadLettered };
}

function outcomeCounts(outcome: DeliverySettlement['outcome']): Counts {
  switch (outcome) {
    case 'ack':
      return { ...zero(), consumed: 1 };
    case 'retry':
      return { ...zero(), retried: 1 };
    case 'dead-letter':
    case 'discarded':
      return { ...zero(), deadLettered: 1 };
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/** The deployment's counts per type, as the processes last wrote them (each within TRAFFIC_FLUSH_MS). */
export async function readTraffic(documents: DocumentStore): Promise<TypeCounts[]> {
  const docs = await trafficDocs(documents).find();
  return docs
    .map((d) => ({ type: d.id, published: d.published, consumed: d.consumed, retried: d.retried, deadLettered: d.deadLettered }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

/** One process's share: counts what its bus reports and adds them to the shared documents. */
export class TrafficRecorder {
  private pending = new Map<string, Counts>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  readonly observer: BusObserver = {
    published: (event) => this.count(event.type, { ...zero(), published: 1 }),
    settled: (s) => this.count(s.type, outcomeCounts(s.outcome)),
  };

  constructor(
    private readonly documents: DocumentStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly flushMs: number = TRAFFIC_FLUSH_MS,
  ) {}

  private count(type: string, counts: Counts): void {
    this.pending.set(type, add(this.pending.get(type) ?? zero(), counts));
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Add what was counted so far to the shared documents (also what `close` does last). */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return this.writing;
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async write(batch: Map<string, Counts>): Promise<void> {
    const docs = trafficDocs(this.documents);
    const at = this.clock.now().toISOString();
    const results = await Promise.allSettled(
      [...batch].map(([type, counts]) =>
        docs.update(type, (current) => ({ id: type, ...add(current ?? zero(), counts), updatedAt: at })).then(() => batch.delete(type)),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) {
      if (this.failing) this.logger.info('event traffic counts written again');
      this.failing = false;
      return;
    }
    // Kept for the next flush: the counts are a measure, so a store outage only delays them.
    for (const [type, counts] of batch) this.count(type, counts);
    if (!this.failing) this.logger.warn({ err: failed.reason }, 'could not write event traffic counts; keeping them for the next try');
    this.failing = true;
  }
}

/** Both observers, each called for every report. */
export function bothObservers(a: BusObserver, b: BusObserver): BusObserver {
  return {
    published: (event) => {
      a.published?.(event);
      b.published?.(event);
    },
    settled: (settlement) => {
      a.settled?.(settlement);
      b.settled?.(settlement);
    },
  };
}
