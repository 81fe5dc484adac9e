// Runs a consumer (consumer-definition.ts) so that a redelivered event is acknowledged without
// running its handler again (the markers of consumer-records.ts), with a checkpoint per consumer
// for lag (consumer-checkpoints.ts).
//
// Delivery is at least once, and so is the handler. The "processed" marker is written AFTER the
// handler succeeds, so a crash (or a failed marker write) between the handler's side effect and the
// marker makes the next delivery run the handler again. Two deliveries of one event running at the
// same time on competing consumers can also both run it. A side effect is exactly-once only if the
// side effect itself is keyed: write its record with `ctx.effectKey` (`${consumer}:${event.id}`) as
// the id, through `DocumentCollection.insert`, which does nothing the second time. Writing the marker
// first instead would turn the window into a lost side effect (at most once), which is worse here.
//
// Replayed deliveries (metadata.replay === true) reach the handler with `ctx.replay = true` (skip
// emails and other outward effects) and are recorded under a key of their own replay run, so a replay
// re-runs a consumer over events it already processed live, and a later replay runs them again.
// Replayed events that travelled in a batch message (replayInfo.batch) are recorded once per batch:
// one marker document lists the batch's processed event ids, written after the batch's handlers
// ran (so, as above, a crash mid-batch runs the batch's handled events again on redelivery; a
// redelivered or retried event already listed is skipped), and the checkpoint moves once per batch.
import type { EventType } from '../events/catalog';
import type { AnyEventEnvelope } from '../events/envelope';
import { ack, retry, type BatchHandler, type Delivery, type DeliveryOutcome, type EventHandler } from '../bus/event-bus';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import { systemClock, type Clock } from '../../platform/clock';
import { loggerFor, type Logger } from '../../platform/logger';
import { checkpointBumps, consumerCheckpoints, emptyCheckpoint, type CheckpointChange, type ConsumerCheckpoint } from './consumer-checkpoints';
import { consumerContext, outcomeOfFailure, type ConsumerDefinition, type HandledEvent, type NonEmpty } from './consumer-definition';
import {
  ANONYMOUS_REPLAY,
  processedKey,
  processedMarkers,
  replayBatchKey,
  replayBatchMarkers,
  replayIdOf,
  type ProcessedMarker,
  type ReplayBatchMarker,
} from './consumer-records';

export interface IdempotentHandlerOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * How long checkpoint bumps may gather before one update writes them (default 0: each delivery
   * waits for its bump; the bumps of one event-loop turn share an update). Call `flushCheckpoint()`
   * before stopping.
   */
  readonly checkpointDelayMs?: number;
}

/** An idempotent consumer's handler, and how to write the checkpoint changes it gathered. */
export type IdempotentHandler = EventHandler & { flushCheckpoint(): Promise<void> };

const isTransient = (outcome: DeliveryOutcome): boolean => outcome.kind === 'retry' && outcome.transient === true;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An envelope of a type the consumer handles, as the bus delivers it and as its handler takes it. */
type Handled<Ts extends NonEmpty<EventType>> = AnyEventEnvelope & HandledEvent<Ts>;

/** What the per-event and the batch handler share: the definition, its clock and its logger. */
class ConsumerRuntime<Ts extends NonEmpty<EventType>> {
  readonly name: string;
  readonly clock: Clock;
  private readonly handled: ReadonlySet<string>;
  private logger: Logger | undefined;

  constructor(readonly definition: ConsumerDefinition<Ts>, options: IdempotentHandlerOptions) {
    this.name = definition.name;
    this.clock = options.clock ?? systemClock;
    this.handled = new Set(definition.handles);
    this.logger = options.logger;
  }

  log(): Logger {
    return (this.logger ??= loggerFor('consumer', { consumer: this.name }));
  }

  /** A child logger for one event, made on first use (most deliveries log nothing). */
  eventLog(event: AnyEventEnvelope): () => Logger {
    let eventLogger: Logger | null = null;
    return () => (eventLogger ??= this.log().child({ eventId: event.id, type: event.type, correlationId: event.correlationId }));
  }

  handles(event: AnyEventEnvelope): event is Handled<Ts> {
    return this.handled.has(event.type);
  }

  /** Run the definition's handler; null when it succeeded, else the outcome of its failure (logged). */
  async run(event: Handled<Ts>, delivery: Delivery, replayId: string | null, eventLog: () => Logger): Promise<DeliveryOutcome | null> {
    try {
      await this.definition.handle(event, consumerContext(this.name, event, delivery, replayId, eventLog));
      return null;
    } catch (error) {
      const outcome = outcomeOfFailure(error);
      // An outage is warned about once by the backend's client; each delivery caught in it is info.
      eventLog()[isTransient(outcome) ? 'info' : 'warn']({ attempt: delivery.attempt, outcome }, 'handler failed');
      return outcome;
    }
  }
}

/**
 * The consumer as a plain EventHandler: what `startConsumer` gives the bus, and what the replay
 * service can call directly with replay-flagged envelopes.
 */
export function createIdempotentHandler<Ts extends NonEmpty<EventType>>(
  store: DocumentStore,
  definition: ConsumerDefinition<Ts>,
  options: IdempotentHandlerOptions = {},
): IdempotentHandler {
  const consumer = new ConsumerRuntime(definition, options);
  const once = new ProcessedOnce(consumer, processedMarkers(store));
  const bumps = checkpointBumps(consumerCheckpoints(store), consumer.name, options.checkpointDelayMs ?? 0, () => consumer.log());
  let batchHandler: BatchHandler | null = null;
  const handler = async (event: AnyEventEnvelope, delivery: Delivery): Promise<DeliveryOutcome> => {
    if (!consumer.handles(event)) {
      // Only reachable if the queue is bound wider than `handles`; nothing to do, nothing to record.
      consumer.log().warn({ eventId: event.id, type: event.type }, 'event type not handled by this consumer; acknowledged');
      return ack;
    }
    if (replayBatchKey(consumer.name, event) !== null) {
      // A replayed event of a batch, delivered alone (a retry): its batch's marker decides.
      batchHandler ??= createIdempotentBatchHandler(store, definition, options);
      return (await batchHandler([event], delivery))[0] ?? retry('no outcome');
    }
    return once.handle(event, delivery, bumps.bump);
  };
  return Object.assign(handler, { flushCheckpoint: bumps.flush });
}

/** One event handled at most once per marker: skipped when marked, marked after its handler ran. */
class ProcessedOnce<Ts extends NonEmpty<EventType>> {
  constructor(
    private readonly consumer: ConsumerRuntime<Ts>,
    private readonly markers: DocumentCollection<ProcessedMarker>,
  ) {}

  async handle(event: Handled<Ts>, delivery: Delivery, bump: (change: CheckpointChange) => Promise<unknown>): Promise<DeliveryOutcome> {
    const replayId = replayIdOf(event);
    const key = processedKey(this.consumer.name, event);
    const eventLog = this.consumer.eventLog(event);
    try {
      if (await this.markers.get(key)) {
        eventLog().debug({ attempt: delivery.attempt }, 'already processed; acknowledged without handling');
        await bump((c) => ({ ...c, skippedDuplicates: c.skippedDuplicates + 1 })).catch(() => undefined);
        return ack;
      }
    } catch (error) {
      return retry(`could not read the processed marker: ${messageOf(error)}`);
    }
    const failed = await this.consumer.run(event, delivery, replayId, eventLog);
    if (failed) return failed;
    const at = this.consumer.clock.now().toISOString();
    const unrecorded = await this.mark(key, event, replayId, at, eventLog);
    if (unrecorded) return unrecorded;
    try {
      await bump(this.checkpointChange(event, replayId, at));
    } catch (error) {
      // The marker is what prevents repeats; the checkpoint is a measure, so a missed bump is only logged.
      eventLog().warn({ err: error }, 'processed and recorded, but the checkpoint was not updated');
    }
    return ack;
  }

  /** Write the marker; null when written, else the outcome (ack when another delivery wrote it first). */
  private async mark(key: string, event: AnyEventEnvelope, replayId: string | null, at: string, eventLog: () => Logger): Promise<DeliveryOutcome | null> {
    try {
      const first = await this.markers.insert({
        id: key,
        consumer: this.consumer.name,
        eventId: event.id,
        type: event.type,
        position: event.position,
        mode: replayId === null ? 'live' : 'replay',
        replayId,
        processedAt: at,
      });
      if (first) return null;
      // Another delivery of the same event finished first (competing consumers): both ran the handler.
      eventLog().warn('event was processed concurrently by another delivery; only keyed side effects are single');
      return ack;
    } catch (error) {
      // The handler ran but is not recorded: the retry will run it again (see the header).
      return retry(`handled but not recorded: ${messageOf(error)}`);
    }
  }

  private checkpointChange(event: AnyEventEnvelope, replayId: string | null, at: string): CheckpointChange {
    const { handles } = this.consumer.definition;
    return (c) =>
      replayId === null
        ? {
            ...c,
            position: Math.max(c.position, event.position),
            processed: c.processed + 1,
            lastEventId: event.id,
            lastEventType: event.type,
            lastEventAt: event.recordedAt,
            lastProcessedAt: at,
            handles,
          }
        : { ...c, replayed: c.replayed + 1, lastReplayId: replayId, lastProcessedAt: at };
  }
}

/** A replay batch met in one delivery: what its marker held, and the events handled now. */
interface BatchEntry {
  readonly replayId: string;
  readonly batch: string;
  readonly done: ReadonlySet<string>;
  readonly readError: string | null;
  /** Indexes (into the delivered events) handled now, to be recorded. */
  readonly handledNow: number[];
}

/**
 * The consumer as a BatchHandler, for replay batch messages: the batch's events run through the
 * handler in order, each with its own outcome; those of a replay batch are recorded with one marker
 * write per batch and one checkpoint update. Other events (live, or replayed without a batch) go
 * through the per-event handler.
 */
export function createIdempotentBatchHandler<Ts extends NonEmpty<EventType>>(
  store: DocumentStore,
  definition: ConsumerDefinition<Ts>,
  options: IdempotentHandlerOptions = {},
): BatchHandler {
  const consumer = new ConsumerRuntime(definition, options);
  const batches = new ReplayBatches(consumer, replayBatchMarkers(store), consumerCheckpoints(store));
  let single: EventHandler | null = null;
  const perEvent = (event: AnyEventEnvelope, delivery: Delivery) => (single ??= createIdempotentHandler(store, definition, options))(event, delivery);

  return async (events, delivery) => {
    const outcomes: DeliveryOutcome[] = events.map(() => ack);
    const entries = await batches.entriesOf(events);
    let skipped = 0;
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as AnyEventEnvelope;
      const key = replayBatchKey(consumer.name, event);
      if (key === null || !consumer.handles(event)) {
        outcomes[index] = await perEvent(event, delivery);
        continue;
      }
      const entry = entries.get(key) as BatchEntry;
      if (entry.readError !== null) {
        outcomes[index] = retry(entry.readError);
        continue;
      }
      if (entry.done.has(event.id)) {
        skipped++;
        continue;
      }
      const failed = await consumer.run(event, delivery, entry.replayId, consumer.eventLog(event));
      if (failed) outcomes[index] = failed;
      else entry.handledNow.push(index);
    }
    const at = consumer.clock.now().toISOString();
    const { recorded, lastReplayId } = await batches.record(entries, events, outcomes, at);
    await batches.bumpCheckpoint(recorded, skipped, lastReplayId, at);
    return outcomes;
  };
}

/** The batch markers and checkpoint of one consumer, as the batch handler reads and writes them. */
class ReplayBatches<Ts extends NonEmpty<EventType>> {
  constructor(
    private readonly consumer: ConsumerRuntime<Ts>,
    private readonly markers: DocumentCollection<ReplayBatchMarker>,
    private readonly checkpoints: DocumentCollection<ConsumerCheckpoint>,
  ) {}

  /** An entry per replay batch of the handled events, with what its marker lists (one read for all). */
  async entriesOf(events: readonly AnyEventEnvelope[]): Promise<Map<string, BatchEntry>> {
    const consumer = this.consumer.name;
    const keys = [...new Set(events.map((e) => replayBatchKey(consumer, e)).filter((k): k is string => k !== null))];
    let readError: string | null = null;
    let found: ReplayBatchMarker[] = [];
    try {
      if (keys.length > 0) found = await this.markers.getMany(keys);
    } catch (error) {
      readError = `could not read the processed marker: ${messageOf(error)}`;
    }
    const byKey = new Map(found.map((m) => [m.id, m]));
    const entries = new Map<string, BatchEntry>();
    for (const event of events) {
      const key = this.consumer.handles(event) ? replayBatchKey(consumer, event) : null;
      if (key === null || entries.has(key)) continue;
      const info = event.metadata.replayInfo;
      entries.set(key, {
        replayId: info?.replayId ?? ANONYMOUS_REPLAY,
        batch: info?.batch ?? '',
        done: new Set(byKey.get(key)?.eventIds ?? []),
        readError,
        handledNow: [],
      });
    }
    return entries;
  }

  /** Add the events handled now to their batch markers; those not recorded are retried (their outcome set so). */
  async record(entries: ReadonlyMap<string, BatchEntry>, events: readonly AnyEventEnvelope[], outcomes: DeliveryOutcome[], at: string): Promise<{ recorded: number; lastReplayId: string | null }> {
    let recorded = 0;
    let lastReplayId: string | null = null;
    for (const [key, entry] of entries) {
      if (entry.handledNow.length === 0) continue;
      const ids = entry.handledNow.map((i) => (events[i] as AnyEventEnvelope).id);
      try {
        const concurrent = await this.addToMarker(key, entry, ids, at);
        if (concurrent > 0) this.consumer.log().warn({ replayId: entry.replayId, batch: entry.batch, concurrent }, 'events were processed concurrently by another delivery');
        recorded += ids.length - concurrent;
        lastReplayId = entry.replayId;
      } catch (error) {
        // Handled but not recorded: the retries will run them again (see the header).
        const reason = `handled but not recorded: ${messageOf(error)}`;
        for (const i of entry.handledNow) outcomes[i] = retry(reason);
      }
    }
    return { recorded, lastReplayId };
  }

  /** How many of `ids` another delivery had listed already. */
  private async addToMarker(key: string, entry: BatchEntry, ids: readonly string[], at: string): Promise<number> {
    let concurrent = 0;
    await this.markers.update(key, (current) => {
      const before = new Set(current?.eventIds ?? []);
      const fresh = ids.filter((id) => !before.has(id));
      concurrent = ids.length - fresh.length;
      if (fresh.length === 0) return null;
      return { id: key, consumer: this.consumer.name, replayId: entry.replayId, batch: entry.batch, eventIds: [...(current?.eventIds ?? []), ...fresh], processedAt: at };
    });
    return concurrent;
  }

  /** One checkpoint update per delivered batch message. */
  async bumpCheckpoint(recorded: number, skipped: number, lastReplayId: string | null, at: string): Promise<void> {
    if (recorded === 0 && skipped === 0) return;
    const consumer = this.consumer.name;
    try {
      await this.checkpoints.update(consumer, (current) => {
        const c = current ?? emptyCheckpoint(consumer);
        return recorded > 0
          ? { ...c, replayed: c.replayed + recorded, skippedDuplicates: c.skippedDuplicates + skipped, lastReplayId, lastProcessedAt: at }
          : { ...c, skippedDuplicates: c.skippedDuplicates + skipped };
      });
    } catch (error) {
      this.consumer.log().warn({ err: error }, 'processed and recorded, but the checkpoint was not updated');
    }
  }
}
