// Runs a command against an event-sourced aggregate (or a saga, which is one over its own stream):
// load (cached fold or latest snapshot + later events) -> decide -> append with the loaded version
// -> evolve -> snapshot every N events. Deciders stay pure; this is the only command runner.
import { LRUCache } from 'lru-cache';
import type { AnyEventEnvelope, AnyNewEvent, CausationContext, EventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { EventStore } from './event-store';
import { ConcurrencyError } from '../../platform/errors';
import type { Clock } from '../../platform/clock';

/** The stored envelopes of the events a decider writes. */
export type StoredEvent<Event extends AnyNewEvent> = { [T in Event['type']]: EventEnvelope<T> }[Event['type']];

interface DeciderCore<Command, State, Event extends AnyNewEvent> {
  readonly initialState: State;
  decide(command: Command, state: State, now: Date): readonly Event[];
  /** Folds one of its own events; the handler leaves the state alone on other events of the stream. */
  evolve(state: State, event: StoredEvent<Event>): State;
  /** Bump when the state's shape changes: older snapshots are then ignored. Absent: never snapshotted. */
  readonly snapshotSchemaVersion?: number;
}

/**
 * A pure decider. One that writes only some event types names them in `eventTypes`, so `evolve`
 * only ever sees its own (a stream may hold others); one over every type needs no list.
 */
export type Decider<Command, State, Event extends AnyNewEvent> = DeciderCore<Command, State, Event> &
  (EventType extends Event['type'] ? { readonly eventTypes?: undefined } : { readonly eventTypes: readonly Event['type'][] });

export interface LoadedAggregate<State> {
  readonly state: State;
  readonly version: number;
}

export interface CommandResult<State> extends LoadedAggregate<State> {
  readonly events: readonly AnyEventEnvelope[];
}

export interface CommandHandlerOptions<State> {
  readonly store: EventStore;
  readonly clock: Clock;
  /** Save a snapshot once this many events follow the last one. Absent: no snapshots are read or saved. */
  readonly snapshotEvery?: number;
  /**
   * How many times an append that loses a race (CONFLICT) is decided again on fresh state, for
   * callers without an expected version of their own (sagas). Default 0: the CONFLICT goes to the caller.
   */
  readonly conflictRetries?: number;
  /** Streams whose folded state is kept between commands (least recently used ones go first). Default 5000. */
  readonly cachedStreams?: number;
  /** Keep a folded state only when this holds (a finished saga is not worth keeping). Default: always. */
  readonly keepFolded?: (state: State) => boolean;
}

/**
 * Ids for the appended events, so that a repeated command appends nothing new: fixed ids, or ids
 * made from the version the decision was taken at (a decision retried after a CONFLICT differs).
 */
export type EventIds = readonly string[] | ((decision: { readonly version: number; readonly index: number }) => string);

const CACHED_STREAMS = 5000;

type Loaded<State> = LoadedAggregate<State> & { readonly snapshotVersion: number };

export class CommandHandler<Command, State, Event extends AnyNewEvent> {
  /**
   * Folded state by stream, at the version it was folded to: only a starting point, as every load
   * still reads the stream from there on (other processes' appends are seen). States are never
   * changed in place (deciders are pure), so sharing them is safe.
   */
  private readonly folded: LRUCache<string, Loaded<State>>;
  private readonly ownTypes: ReadonlySet<string> | null;
  private readonly snapshots: { readonly every: number; readonly schemaVersion: number } | null;

  constructor(
    private readonly decider: Decider<Command, State, Event>,
    private readonly options: CommandHandlerOptions<State>,
  ) {
    this.folded = new LRUCache({ max: options.cachedStreams ?? CACHED_STREAMS });
    this.ownTypes = decider.eventTypes ? new Set(decider.eventTypes) : null;
    const { snapshotEvery } = options;
    const { snapshotSchemaVersion } = decider;
    this.snapshots = snapshotEvery !== undefined && snapshotSchemaVersion !== undefined ? { every: snapshotEvery, schemaVersion: snapshotSchemaVersion } : null;
  }

  private evolve(state: State, event: AnyEventEnvelope): State {
    if (this.ownTypes && !this.ownTypes.has(event.type)) return state;
    return this.decider.evolve(state, event as StoredEvent<Event>);
  }

  /** The folded state kept for a stream, if any, without reading the store. */
  peek(streamId: string): LoadedAggregate<State> | undefined {
    return this.folded.peek(streamId);
  }

  /** Current state: the folded state kept from last time (or the latest usable snapshot), then the events after it. */
  async load(streamId: string): Promise<Loaded<State>> {
    let start = this.folded.get(streamId);
    if (!start) {
      const snapshot = this.snapshots ? await this.options.store.loadSnapshot<State>(streamId) : null;
      const usable = snapshot && snapshot.schemaVersion === this.snapshots?.schemaVersion ? snapshot : null;
      start = { state: usable ? usable.state : this.decider.initialState, version: usable?.version ?? 0, snapshotVersion: usable?.version ?? 0 };
    }
    let { state, version } = start;
    for (const event of await this.options.store.readStream(streamId, version + 1)) {
      state = this.evolve(state, event);
      version = event.streamVersion;
    }
    const loaded = { state, version, snapshotVersion: start.snapshotVersion };
    this.remember(streamId, loaded);
    return loaded;
  }

  private remember(streamId: string, loaded: Loaded<State>): void {
    if (this.options.keepFolded && !this.options.keepFolded(loaded.state)) this.folded.delete(streamId);
    else this.folded.set(streamId, loaded);
  }

  /** State from every event, ignoring snapshots (to check snapshots against). */
  async loadFromEvents(streamId: string): Promise<LoadedAggregate<State>> {
    let state = this.decider.initialState;
    let version = 0;
    for (const event of await this.options.store.readStream(streamId, 1)) {
      state = this.evolve(state, event);
      version = event.streamVersion;
    }
    return { state, version };
  }

  /**
   * Decide and append. `expectedVersion`, when the caller gives one, must equal the stream's
   * version (else CONFLICT naming both). The append itself always expects the version loaded,
   * so a concurrent writer between load and append also ends in CONFLICT (retried on fresh state
   * up to `conflictRetries` times), never a lost update.
   */
  async handle(
    streamId: string,
    command: Command,
    context: CausationContext,
    expectedVersion?: number,
    eventIds?: EventIds,
  ): Promise<CommandResult<State>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.handleOnce(streamId, command, context, expectedVersion, eventIds);
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || expectedVersion !== undefined || attempt >= (this.options.conflictRetries ?? 0)) throw error;
      }
    }
  }

  private async handleOnce(
    streamId: string,
    command: Command,
    context: CausationContext,
    expectedVersion: number | undefined,
    eventIds: EventIds | undefined,
  ): Promise<CommandResult<State>> {
    const loaded = await this.load(streamId);
    if (expectedVersion !== undefined && expectedVersion !== loaded.version) {
      throw new ConcurrencyError(streamId, expectedVersion, loaded.version);
    }
    const decided = this.decider.decide(command, loaded.state, this.options.clock.now());
    if (decided.length === 0) return { state: loaded.state, version: loaded.version, events: [] };
    const idOf = (index: number): string | undefined =>
      typeof eventIds === 'function' ? eventIds({ version: loaded.version, index }) : eventIds?.[index];
    const toAppend = decided.map((e, i): AnyNewEvent => {
      const id = idOf(i);
      return id ? { ...e, id } : e;
    });
    const result = await this.options.store.append(streamId, toAppend, { expectedVersion: loaded.version, context });
    let state = loaded.state;
    for (const event of result.events) state = this.evolve(state, event);
    const snapshotDue = this.snapshots !== null && result.nextExpectedVersion - loaded.snapshotVersion >= this.snapshots.every;
    // Keep the new state only when these events are the ones just appended after the loaded version
    // (an idempotent re-append hands back events stored before: start from the store next time).
    if (result.events[0]?.streamVersion === loaded.version + 1) {
      this.remember(streamId, { state, version: result.nextExpectedVersion, snapshotVersion: snapshotDue ? result.nextExpectedVersion : loaded.snapshotVersion });
    } else {
      this.folded.delete(streamId);
    }
    if (snapshotDue && this.snapshots) {
      await this.options.store.saveSnapshot({
        streamId,
        version: result.nextExpectedVersion,
        schemaVersion: this.snapshots.schemaVersion,
        state,
        takenAt: this.options.clock.now().toISOString(),
      });
    }
    return { state, version: result.nextExpectedVersion, events: result.events };
  }
}
