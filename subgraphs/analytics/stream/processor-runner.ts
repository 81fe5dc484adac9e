// Runs the pure stream processor in the product: follows the activity (and payment, member) events in
// the store's global order, appends what the processor emits (ids derived from window keys, so a
// repeat is a no-op), keeps late events aside, checkpoints state with its position, and appends a
// watermark tick when processing time, not new events, must close idle windows.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { isEventType, type EventType } from '../../../messaging/events/catalog';
import type { EventStore } from '../../../messaging/store/event-store';
import { StoreFollower } from '../../../messaging/store/store-follower';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { FailureStreak } from '../../../platform/failure-streak';
import type { Logger } from '../../../platform/logger';
import type { Facts } from '../domain/cep-engine';
import type { FactValue } from '../domain/cep-rules';
import { defaultRules, type CepRule } from '../domain/cep-rules';
import {
  activityCounters,
  ProcessorSink,
  StreamProcessor,
  type ActivityInputType,
  type LateRecord,
  type ProcessorEmit,
  type ProcessorInput,
  type ProcessorStats,
  watermarkOf,
} from '../domain/stream-processor';
import { documentProcessorCheckpoint, type ProcessorCheckpoint } from './processor-checkpoint';

export const TICK_TYPE = 'analytics.watermark.advanced' satisfies EventType;
export const PROCESSOR_NAME = 'analytics-stream-processor';

/** The store event types the processor reads: those in the catalog now (payment events by name). */
export function processorInputTypes(): EventType[] {
  return [...Object.keys(activityCounters), TICK_TYPE].filter(isEventType);
}

export interface LateEventDoc extends LateRecord {
  readonly id: string;
  readonly position: number;
}

export function lateEvents(documents: DocumentStore): DocumentCollection<LateEventDoc> {
  return documents.collection<LateEventDoc>('analytics_late_events', { indexes: ['memberId', 'position'] });
}

export interface ProcessorRunnerOptions {
  readonly store: EventStore;
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly allowedLatenessMs: number;
  /** How often processing time is checked against open windows (0: only when `tick()` is called). */
  readonly tickMs: number;
  readonly pollIntervalMs: number;
  readonly rules?: readonly CepRule[];
  /** Least time between checkpoints while running (0: after every batch); always on stop. */
  readonly checkpointIntervalMs?: number;
  readonly checkpoint?: ProcessorCheckpoint;
}

function factsOf(payload: Record<string, unknown>): Facts {
  const facts: Record<string, FactValue> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') facts[key] = value;
  }
  return facts;
}

/** The processor's view of a stored event, or null for a type it does not read. */
export function processorInputOf(event: AnyEventEnvelope): ProcessorInput | null {
  if (event.type === TICK_TYPE) return { kind: 'tick', id: event.id, at: Date.parse(event.payload.at), position: event.position };
  if (!Object.prototype.hasOwnProperty.call(activityCounters, event.type)) return null;
  const payload = event.payload as Record<string, unknown>;
  if (typeof payload.memberId !== 'string') return null;
  return {
    kind: 'activity',
    id: event.id,
    type: event.type as ActivityInputType,
    memberId: payload.memberId,
    time: Date.parse(event.occurredAt),
    position: event.position,
    facts: factsOf(payload),
  };
}

type PendingOutput =
  | { readonly kind: 'emit'; readonly emit: ProcessorEmit; readonly correlationId: string }
  | { readonly kind: 'late'; readonly late: LateRecord };

export class StreamProcessorRunner {
  readonly core: StreamProcessor;
  private readonly follower: StoreFollower;
  private readonly checkpoint: ProcessorCheckpoint;
  private readonly late: DocumentCollection<LateEventDoc>;
  private timer: NodeJS.Timeout | null = null;
  private lastSave = 0;
  /** Position of the last tick this runner appended: no second one until the core has seen it. */
  private pendingTick = 0;
  private readonly pending: PendingOutput[] = [];
  private readonly latePositions = new Map<string, number>();

  constructor(private readonly options: ProcessorRunnerOptions) {
    this.core = new StreamProcessor({ allowedLatenessMs: options.allowedLatenessMs, rules: options.rules ?? defaultRules });
    this.checkpoint = options.checkpoint ?? documentProcessorCheckpoint(options.documents, PROCESSOR_NAME);
    this.late = lateEvents(options.documents);
    this.follower = new StoreFollower(
      PROCESSOR_NAME,
      options.store,
      // The position lives in the processor's own checkpoint, saved with the state it belongs to.
      { load: async () => this.core.header().position, save: async () => undefined },
      (batch) => this.handle(batch),
      options.logger,
      { types: processorInputTypes(), pollIntervalMs: options.pollIntervalMs },
    );
  }

  async start(): Promise<void> {
    const saved = await this.checkpoint.load();
    if (saved) this.core.restore(saved.header, saved.members);
    this.lastSave = this.options.clock.now().getTime();
    await this.follower.start();
    if (this.options.tickMs > 0) {
      const ticks = new FailureStreak(this.options.logger, 'analytics watermark tick', this.options.clock);
      this.timer = setInterval(() => {
        this.tick().then(
          () => ticks.succeeded(),
          (error: unknown) => ticks.failed(error),
        );
      }, this.options.tickMs);
      this.timer.unref();
    }
  }

  /** After a local append (given its events, only when some are of the processor's types). */
  wake(appended?: readonly { readonly type: string }[]): void {
    this.follower.wake(appended);
  }

  caughtUp(): Promise<void> {
    return this.follower.caughtUp();
  }

  stats(): ProcessorStats {
    return this.core.stats();
  }

  /** The stats of the last checkpoint (another instance's, when this one does not run the processor). */
  async savedStats(): Promise<ProcessorStats | null> {
    const summary = await this.checkpoint.summary();
    if (!summary) return null;
    const { header } = summary;
    return {
      ...header,
      watermark: watermarkOf(header.maxEventTime, header.lastTick, this.options.allowedLatenessMs),
      allowedLatenessMs: this.options.allowedLatenessMs,
      openWindows: summary.openWindows,
      members: summary.members,
    };
  }

  /**
   * Append a watermark tick when processing time has passed a window end (or an absence deadline)
   * by the allowed lateness; true when one was appended.
   */
  async tick(): Promise<boolean> {
    if (this.pendingTick > this.core.header().position) return false;
    const deadline = this.core.nextDeadline();
    const now = this.options.clock.now().getTime();
    if (deadline === null || now - this.options.allowedLatenessMs < deadline) return false;
    const id = deterministicUuid(`analytics:tick:${now}`);
    const result = await this.options.store.append(
      'analytics-watermark',
      [{ id, type: TICK_TYPE, payload: { at: new Date(now).toISOString() }, occurredAt: new Date(now).toISOString() }],
      { expectedVersion: 'any', context: { correlationId: id, causationId: null, actor: { id: PROCESSOR_NAME, role: 'system' } } },
    );
    this.pendingTick = result.events[0]?.position ?? 0;
    this.follower.wake();
    return true;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.follower.stop();
    await this.save();
  }

  private async handle(batch: readonly AnyEventEnvelope[]): Promise<void> {
    // Outputs of a batch that failed half way go out first: the core will not produce them again.
    await this.flush();
    const sink = new ProcessorSink();
    for (const event of batch) {
      const input = processorInputOf(event);
      if (!input) continue;
      const lateBefore = sink.late.length;
      this.core.process(input, sink);
      if (sink.late.length > lateBefore) this.latePositions.set(event.id, event.position);
    }
    const correlationOf = new Map(batch.map((e) => [e.id, e.correlationId]));
    for (const emit of sink.emits) {
      this.pending.push({ kind: 'emit', emit, correlationId: correlationOf.get(emit.causeId) ?? emit.causeId });
    }
    for (const late of sink.late) this.pending.push({ kind: 'late', late });
    await this.flush();
    const now = this.options.clock.now().getTime();
    if (now - this.lastSave >= (this.options.checkpointIntervalMs ?? 1000)) await this.save();
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0] as PendingOutput;
      if (next.kind === 'emit') {
        await this.options.store.append(`analytics-${next.emit.memberId}`, [next.emit.event], {
          expectedVersion: 'any',
          context: { correlationId: next.correlationId, causationId: next.emit.causeId, actor: { id: PROCESSOR_NAME, role: 'system' } },
        });
      } else {
        await this.late.insert({ id: next.late.eventId, ...next.late, position: this.latePositions.get(next.late.eventId) ?? 0 });
        this.latePositions.delete(next.late.eventId);
      }
      this.pending.shift();
    }
  }

  private async save(): Promise<void> {
    // A checkpoint ahead of undelivered outputs would lose them on a crash.
    if (this.pending.length > 0) return;
    await this.checkpoint.save(this.core.header(), this.core.memberSnapshots(), this.options.clock.now());
    this.lastSave = this.options.clock.now().getTime();
  }
}
