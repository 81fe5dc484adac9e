// Idempotent consumers: a typed handler per consumer name, wrapped so that a redelivered event is
// acknowledged without running the handler again, with a checkpoint per consumer for lag.
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
import type { AnyEventEnvelope, EventEnvelope } from '../events/envelope';
import { ack, deadLetter, retry, type BatchHandler, type Delivery, type DeliveryOutcome, type EventHandler } from '../bus/event-bus';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import { systemClock, type Clock } from '../../platform/clock';
import { isDomainError, ValidationError, type ErrorCode } from '../../platform/errors';
import { loggerFor, type Logger } from '../../platform/logger';

/** The envelope union of exactly the listed types: `event.type` narrows the payload. */
export type HandledEvent<Ts extends readonly EventType[]> = { [T in Ts[number]]: EventEnvelope<T> }[Ts[number]];

export interface ConsumerContext {
  readonly consumer: string;
  /**
   * `${consumer}:${event.id}`, the same for live and replayed deliveries: use it as the id of the
   * record a side effect writes (with `insert`) so that running the handler twice has one effect.
   */
  readonly effectKey: string;
  /** Keys for a handler with several side effects per event: `${effectKey}:${label}`. */
  effectKeyFor(label: string): string;
  /** True on a replayed delivery: rebuild state, but send no emails and call no outside systems. */
  readonly replay: boolean;
  /** The replay run this delivery belongs to (null when live). */
  readonly replayId: string | null;
  readonly delivery: Delivery;
  readonly logger: Logger;
}

export interface DeliverySettings {
  readonly prefetch?: number;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

type NonEmpty<T> = readonly [T, ...T[]];

export interface ConsumerDefinition<Ts extends NonEmpty<EventType> = NonEmpty<EventType>> {
  /** The consumer's identity: its queue name and the key of its markers and checkpoint. */
  readonly name: string;
  /** Event types handled; the queue's bindings are exactly these routing keys. */
  readonly handles: Ts;
  /**
   * Resolve when done. Throw a DomainError coded BAD_USER_INPUT, INVALID_EVENT or
   * UNKNOWN_EVENT_TYPE to dead-letter the event (retrying cannot help); anything else is retried.
   */
  // Method syntax on purpose: a definition for some types stays assignable to `ConsumerDefinition`
  // (any consumer), so lists of consumers type-check; `defineConsumer` still narrows `event`.
  handle(event: HandledEvent<Ts>, ctx: ConsumerContext): Promise<void>;
  /** Bus settings for this consumer's queue (defaults: the bus's). */
  readonly delivery?: DeliverySettings;
}

const CONSUMER_NAME = /^[a-z][a-z0-9_.-]{0,99}$/;

/**
 * Declare a consumer. `handles` fixes the event union the handler receives; a type outside the
 * catalog, or a `case` for a type not listed, does not compile.
 */
export function defineConsumer<const Ts extends NonEmpty<EventType>>(definition: ConsumerDefinition<Ts>): ConsumerDefinition<Ts> {
  if (!CONSUMER_NAME.test(definition.name)) {
    throw new ValidationError(
      `Consumer name "${definition.name}" must be lower case letters, digits, ".", "_" or "-", starting with a letter.`,
      { consumer: definition.name },
    );
  }
  if (definition.handles.length === 0) {
    throw new ValidationError(`Consumer "${definition.name}" must handle at least one event type.`, { consumer: definition.name });
  }
  return definition;
}

/** Queue bindings of a consumer: each handled type is its own routing key. */
export function bindingsOf(definition: Pick<ConsumerDefinition, 'handles'>): string[] {
  return [...new Set(definition.handles)];
}

// ---- What is stored ----

export const CONSUMER_PROCESSED_COLLECTION = 'consumer_processed';
export const CONSUMER_CHECKPOINTS_COLLECTION = 'consumer_checkpoints';
export const CONSUMER_REPLAY_BATCHES_COLLECTION = 'consumer_replay_batches';

/** One marker per (consumer, event) live, and per (consumer, replay run, event) for replays. */
export interface ProcessedMarker {
  readonly id: string;
  readonly consumer: string;
  readonly eventId: string;
  readonly type: string;
  readonly position: number;
  readonly mode: 'live' | 'replay';
  readonly replayId: string | null;
  readonly processedAt: string;
}

/** One marker per (consumer, replay run, batch): the batch's events processed so far. */
export interface ReplayBatchMarker {
  readonly id: string;
  readonly consumer: string;
  readonly replayId: string;
  /** `<first>-<last>` original positions of the batch message. */
  readonly batch: string;
  readonly eventIds: readonly string[];
  readonly processedAt: string;
}

export interface ConsumerCheckpoint {
  /** The consumer name. */
  readonly id: string;
  /**
   * Highest global position processed live. With competing consumers and retries, events below it
   * may still be in flight: lag (head minus this) is a measure, not a guarantee of completeness.
   */
  readonly position: number;
  /** Events processed live (each counted once, however often delivered). */
  readonly processed: number;
  /** Deliveries acknowledged without running the handler because the event was already processed. */
  readonly skippedDuplicates: number;
  /** Events processed in replays. */
  readonly replayed: number;
  readonly lastEventId: string | null;
  readonly lastEventType: string | null;
  /** recordedAt of the last event processed live. */
  readonly lastEventAt: string | null;
  /** When the consumer last finished an event (live or replay), by its clock. */
  readonly lastProcessedAt: string | null;
  readonly lastReplayId: string | null;
  /** The event types the consumer handles, so the monitor can count what it still has to process. */
  readonly handles?: readonly string[];
}

/** What replays are keyed by when the replay service gave no run id. */
const ANONYMOUS_REPLAY = 'anonymous';

export function replayIdOf(event: AnyEventEnvelope): string | null {
  if (event.metadata.replay !== true) return null;
  return event.metadata.replayInfo?.replayId ?? ANONYMOUS_REPLAY;
}

/** The marker id of a delivery: live and each replay run are recorded apart. */
export function processedKey(consumer: string, event: AnyEventEnvelope): string {
  const replayId = replayIdOf(event);
  return replayId === null ? `${consumer}:${event.id}` : `${consumer}:replay:${replayId}:${event.id}`;
}

/** The batch marker id of a replayed event that travelled in a batch; null otherwise. */
export function replayBatchKey(consumer: string, event: AnyEventEnvelope): string | null {
  const info = event.metadata.replayInfo;
  if (event.metadata.replay !== true || !info?.batch) return null;
  return `${consumer}:replay:${info.replayId}:batch:${info.batch}`;
}

export function replayBatchMarkers(store: DocumentStore): DocumentCollection<ReplayBatchMarker> {
  return store.collection<ReplayBatchMarker>(CONSUMER_REPLAY_BATCHES_COLLECTION, { indexes: ['consumer', 'replayId'] });
}

export function processedMarkers(store: DocumentStore): DocumentCollection<ProcessedMarker> {
  return store.collection<ProcessedMarker>(CONSUMER_PROCESSED_COLLECTION, { indexes: ['consumer', 'replayId', 'processedAt'] });
}

export function consumerCheckpoints(store: DocumentStore): DocumentCollection<ConsumerCheckpoint> {
  return store.collection<ConsumerCheckpoint>(CONSUMER_CHECKPOINTS_COLLECTION);
}

export function emptyCheckpoint(consumer: string): ConsumerCheckpoint {
  return {
    id: consumer,
    position: 0,
    processed: 0,
    skippedDuplicates: 0,
    replayed: 0,
    lastEventId: null,
    lastEventType: null,
    lastEventAt: null,
    lastProcessedAt: null,
    lastReplayId: null,
  };
}

export async function readConsumerCheckpoint(store: DocumentStore, consumer: string): Promise<ConsumerCheckpoint> {
  return (await consumerCheckpoints(store).get(consumer)) ?? emptyCheckpoint(consumer);
}

export async function listConsumerCheckpoints(store: DocumentStore): Promise<ConsumerCheckpoint[]> {
  return consumerCheckpoints(store).find();
}

/** Positions a consumer is behind the store's head (never negative). */
export function consumerLag(checkpoint: Pick<ConsumerCheckpoint, 'position'>, headPosition: number): number {
  return Math.max(0, headPosition - checkpoint.position);
}

/** Forget one replay run's markers (after it finished), so they do not pile up. Returns how many. */
export async function clearReplayMarkers(store: DocumentStore, consumer: string, replayId: string): Promise<number> {
  const markers = processedMarkers(store);
  let removed = 0;
  for (;;) {
    const batch = await markers.find({ where: { consumer, replayId }, limit: 500 });
    if (batch.length === 0) break;
    for (const marker of batch) if (await markers.delete(marker.id)) removed++;
  }
  // Batch markers count the events they list.
  const batches = replayBatchMarkers(store);
  for (;;) {
    const batch = await batches.find({ where: { consumer, replayId }, limit: 500 });
    if (batch.length === 0) return removed;
    for (const marker of batch) if (await batches.delete(marker.id)) removed += marker.eventIds.length;
  }
}

// ---- The wrapper ----

type CheckpointChange = (current: ConsumerCheckpoint) => ConsumerCheckpoint;

/** The consumer's checkpoint with the changes applied in order (from an empty one if none yet). */
function applyChanges(consumer: string, changes: readonly CheckpointChange[], current: ConsumerCheckpoint | null): ConsumerCheckpoint {
  return changes.reduce((checkpoint, apply) => apply(checkpoint), current ?? emptyCheckpoint(consumer));
}

interface CheckpointBumps {
  /** Record a change of the checkpoint; resolves once it is stored, or at once when written behind. */
  bump(change: CheckpointChange): Promise<unknown>;
  /** Write the changes gathered so far (written behind only). */
  flush(): Promise<void>;
}

/**
 * Checkpoint bumps of one consumer. With no delay, the bumps that arrive before the store runs the
 * pending update join it: one document update carries them all (with the SQLite store's group
 * commit, every delivery of a turn), and each caller still resolves only once its bump is stored.
 * With a delay, bumps gather for that long and one update writes them; callers do not wait.
 */
function checkpointBumps(checkpoints: DocumentCollection<ConsumerCheckpoint>, consumer: string, delayMs: number, log: () => Logger): CheckpointBumps {
  if (delayMs <= 0) return { bump: coalescedCheckpointBumps(checkpoints, consumer), flush: async () => undefined };
  let gathered: CheckpointChange[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const changes = gathered;
    gathered = [];
    if (changes.length === 0) return writing;
    writing = writing.then(async () => {
      try {
        await checkpoints.update(consumer, (current) => applyChanges(consumer, changes, current));
      } catch (error) {
        // The marker is what prevents repeats; the checkpoint is a measure, so a missed bump is only logged.
        log().warn({ err: error, bumps: changes.length }, 'processed and recorded, but the checkpoint was not updated');
      }
    });
    return writing;
  };
  return {
    bump: (change) => {
      gathered.push(change);
      if (timer === null) {
        timer = setTimeout(() => void flush(), delayMs);
        timer.unref();
      }
      return Promise.resolve();
    },
    flush,
  };
}

function coalescedCheckpointBumps(checkpoints: DocumentCollection<ConsumerCheckpoint>, consumer: string): (change: CheckpointChange) => Promise<unknown> {
  let open: { readonly changes: CheckpointChange[]; stored: Promise<unknown> } | null = null;
  return (change) => {
    if (open) {
      open.changes.push(change);
      return open.stored;
    }
    const batch: { readonly changes: CheckpointChange[]; stored: Promise<unknown> } = { changes: [change], stored: Promise.resolve() };
    open = batch;
    batch.stored = checkpoints.update(consumer, (current) => {
      // The update is running: later bumps start the next one. (A store may run this more than
      // once, retrying a compare-and-set; folding the same list again gives the same document.)
      if (open === batch) open = null;
      return applyChanges(consumer, batch.changes, current);
    });
    // If the update failed before running the change, the batch must not stay open.
    batch.stored.catch(() => undefined).finally(() => {
      if (open === batch) open = null;
    });
    return batch.stored;
  };
}

const isTransient = (outcome: DeliveryOutcome): boolean => outcome.kind === 'retry' && outcome.transient === true;

/** Error codes for which a retry cannot succeed: the event or its content is wrong, not the moment. */
const DEAD_LETTER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_USER_INPUT', 'INVALID_EVENT', 'UNKNOWN_EVENT_TYPE']);

/** What a handler's failure means for the delivery. */
export function outcomeOfFailure(error: unknown): DeliveryOutcome {
  if (isDomainError(error)) {
    const reason = `${error.code}: ${error.message}`;
    // A backend outage is not the event's fault: retried without counting, until the backend is back.
    if (error.code === 'UNAVAILABLE') return { kind: 'retry', reason, transient: true };
    return DEAD_LETTER_CODES.has(error.code) ? deadLetter(reason) : retry(reason);
  }
  return retry(error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`);
}

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

/**
 * The consumer as a plain EventHandler: what `startConsumer` gives the bus, and what the replay
 * service can call directly with replay-flagged envelopes.
 */
export function createIdempotentHandler<Ts extends NonEmpty<EventType>>(
  store: DocumentStore,
  definition: ConsumerDefinition<Ts>,
  options: IdempotentHandlerOptions = {},
): IdempotentHandler {
  const consumer = definition.name;
  const handled: ReadonlySet<string> = new Set(definition.handles);
  const markers = processedMarkers(store);
  const checkpoints = consumerCheckpoints(store);
  const clock = options.clock ?? systemClock;
  let logger = options.logger;
  const log = (): Logger => (logger ??= loggerFor('consumer', { consumer }));

  const bumps = checkpointBumps(checkpoints, consumer, options.checkpointDelayMs ?? 0, log);
  const bumpCheckpoint = bumps.bump;

  let batchHandler: BatchHandler | null = null;
  const handler = async (event: AnyEventEnvelope, delivery: Delivery): Promise<DeliveryOutcome> => {
    if (handled.has(event.type) && replayBatchKey(consumer, event) !== null) {
      // A replayed event of a batch, delivered alone (a retry): its batch's marker decides.
      batchHandler ??= createIdempotentBatchHandler(store, definition, options);
      return (await batchHandler([event], delivery))[0] ?? retry('no outcome');
    }
    if (!handled.has(event.type)) {
      // Only reachable if the queue is bound wider than `handles`; nothing to do, nothing to record.
      log().warn({ eventId: event.id, type: event.type }, 'event type not handled by this consumer; acknowledged');
      return ack;
    }
    const replayId = replayIdOf(event);
    const key = processedKey(consumer, event);
    // A child logger per delivery only when something is logged: most deliveries log nothing.
    let eventLogger: Logger | null = null;
    const eventLog = (): Logger => (eventLogger ??= log().child({ eventId: event.id, type: event.type, correlationId: event.correlationId }));

    try {
      if (await markers.get(key)) {
        eventLog().debug({ attempt: delivery.attempt }, 'already processed; acknowledged without handling');
        await bumpCheckpoint((c) => ({ ...c, skippedDuplicates: c.skippedDuplicates + 1 })).catch(() => undefined);
        return ack;
      }
    } catch (error) {
      return retry(`could not read the processed marker: ${error instanceof Error ? error.message : String(error)}`);
    }

    const effectKey = `${consumer}:${event.id}`;
    const ctx: ConsumerContext = {
      consumer,
      effectKey,
      effectKeyFor: (label) => `${effectKey}:${label}`,
      replay: replayId !== null,
      replayId,
      delivery,
      get logger() {
        return eventLog();
      },
    };
    try {
      // The set check above is what makes this cast true.
      await definition.handle(event as HandledEvent<Ts>, ctx);
    } catch (error) {
      const outcome = outcomeOfFailure(error);
      // An outage is warned about once by the backend's client; each delivery caught in it is info.
      eventLog()[isTransient(outcome) ? 'info' : 'warn']({ attempt: delivery.attempt, outcome }, 'handler failed');
      return outcome;
    }

    const at = clock.now().toISOString();
    try {
      const first = await markers.insert({
        id: key,
        consumer,
        eventId: event.id,
        type: event.type,
        position: event.position,
        mode: replayId === null ? 'live' : 'replay',
        replayId,
        processedAt: at,
      });
      if (!first) {
        // Another delivery of the same event finished first (competing consumers): both ran the handler.
        eventLog().warn('event was processed concurrently by another delivery; only keyed side effects are single');
        return ack;
      }
    } catch (error) {
      // The handler ran but is not recorded: the retry will run it again (see the header).
      return retry(`handled but not recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      await bumpCheckpoint((c) =>
        replayId === null
          ? {
              ...c,
              position: Math.max(c.position, event.position),
              processed: c.processed + 1,
              lastEventId: event.id,
              lastEventType: event.type,
              lastEventAt: event.recordedAt,
              lastProcessedAt: at,
              handles: definition.handles,
            }
          : { ...c, replayed: c.replayed + 1, lastReplayId: replayId, lastProcessedAt: at },
      );
    } catch (error) {
      // The marker is what prevents repeats; the checkpoint is a measure, so a missed bump is only logged.
      eventLog().warn({ err: error }, 'processed and recorded, but the checkpoint was not updated');
    }
    return ack;
  };
  return Object.assign(handler, { flushCheckpoint: bumps.flush });
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
  const consumer = definition.name;
  const handled: ReadonlySet<string> = new Set(definition.handles);
  const batches = replayBatchMarkers(store);
  const checkpoints = consumerCheckpoints(store);
  const clock = options.clock ?? systemClock;
  let logger = options.logger;
  const log = (): Logger => (logger ??= loggerFor('consumer', { consumer }));
  let single: EventHandler | null = null;

  interface Entry {
    readonly replayId: string;
    readonly batch: string;
    readonly done: ReadonlySet<string>;
    readonly readError: string | null;
    /** Indexes (into the delivered events) handled now, to be recorded. */
    readonly handledNow: number[];
  }

  return async (events, delivery) => {
    const outcomes: DeliveryOutcome[] = events.map(() => ack);
    const keys = [...new Set(events.map((e) => replayBatchKey(consumer, e)).filter((k): k is string => k !== null))];
    const entries = new Map<string, Entry>();
    let readError: string | null = null;
    let found: ReplayBatchMarker[] = [];
    try {
      if (keys.length > 0) found = await batches.getMany(keys);
    } catch (error) {
      readError = `could not read the processed marker: ${error instanceof Error ? error.message : String(error)}`;
    }
    const byKey = new Map(found.map((m) => [m.id, m]));
    let skipped = 0;

    for (let index = 0; index < events.length; index++) {
      const event = events[index] as AnyEventEnvelope;
      const key = handled.has(event.type) ? replayBatchKey(consumer, event) : null;
      if (key === null) {
        single ??= createIdempotentHandler(store, definition, options);
        outcomes[index] = await single(event, delivery);
        continue;
      }
      let entry = entries.get(key);
      if (!entry) {
        const info = event.metadata.replayInfo;
        entry = {
          replayId: info?.replayId ?? ANONYMOUS_REPLAY,
          batch: info?.batch ?? '',
          done: new Set(byKey.get(key)?.eventIds ?? []),
          readError,
          handledNow: [],
        };
        entries.set(key, entry);
      }
      if (entry.readError !== null) {
        outcomes[index] = retry(entry.readError);
        continue;
      }
      if (entry.done.has(event.id)) {
        skipped++;
        continue;
      }
      const effectKey = `${consumer}:${event.id}`;
      let eventLog: Logger | null = null;
      const ctx: ConsumerContext = {
        consumer,
        effectKey,
        effectKeyFor: (label) => `${effectKey}:${label}`,
        replay: true,
        replayId: entry.replayId,
        delivery,
        // A child logger per event only when the handler logs: most replayed events never do.
        get logger() {
          return (eventLog ??= log().child({ eventId: event.id, type: event.type, correlationId: event.correlationId }));
        },
      };
      try {
        await definition.handle(event as HandledEvent<Ts>, ctx);
        entry.handledNow.push(index);
      } catch (error) {
        const outcome = outcomeOfFailure(error);
        ctx.logger[isTransient(outcome) ? 'info' : 'warn']({ attempt: delivery.attempt, outcome }, 'handler failed');
        outcomes[index] = outcome;
      }
    }

    const at = clock.now().toISOString();
    let recorded = 0;
    let lastReplayId: string | null = null;
    for (const [key, entry] of entries) {
      if (entry.handledNow.length === 0) continue;
      const ids = entry.handledNow.map((i) => (events[i] as AnyEventEnvelope).id);
      try {
        let concurrent = 0;
        await batches.update(key, (current) => {
          const before = new Set(current?.eventIds ?? []);
          const fresh = ids.filter((id) => !before.has(id));
          concurrent = ids.length - fresh.length;
          if (fresh.length === 0) return null;
          return { id: key, consumer, replayId: entry.replayId, batch: entry.batch, eventIds: [...(current?.eventIds ?? []), ...fresh], processedAt: at };
        });
        if (concurrent > 0) log().warn({ replayId: entry.replayId, batch: entry.batch, concurrent }, 'events were processed concurrently by another delivery');
        recorded += ids.length - concurrent;
        lastReplayId = entry.replayId;
      } catch (error) {
        // Handled but not recorded: the retries will run them again (see the header).
        const reason = `handled but not recorded: ${error instanceof Error ? error.message : String(error)}`;
        for (const i of entry.handledNow) outcomes[i] = retry(reason);
      }
    }
    if (recorded > 0 || skipped > 0) {
      try {
        await checkpoints.update(consumer, (current) => {
          const c = current ?? emptyCheckpoint(consumer);
          return recorded > 0
            ? { ...c, replayed: c.replayed + recorded, skippedDuplicates: c.skippedDuplicates + skipped, lastReplayId, lastProcessedAt: at }
            : { ...c, skippedDuplicates: c.skippedDuplicates + skipped };
        });
      } catch (error) {
        log().warn({ err: error }, 'processed and recorded, but the checkpoint was not updated');
      }
    }
    return outcomes;
  };
}
