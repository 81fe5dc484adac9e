// Runs a command against an event-sourced aggregate, as the seed's Event Sourcing flow draws it:
// load (latest snapshot + later events) -> decide -> append with the expected version -> snapshot
// every N events. Deciders stay pure; this is the only place that touches the store for commands.
import type { AnyEventEnvelope, AnyNewEvent, CausationContext } from '../events/envelope';
import type { EventStore } from './event-store';
import { ConcurrencyError } from '../../platform/errors';
import type { Clock } from '../../platform/clock';

export interface Decider<Command, State, Event extends AnyNewEvent> {
  readonly initialState: State;
  decide(command: Command, state: State, now: Date): Event[];
  evolve(state: State, event: AnyEventEnvelope): State;
  /** Bump when the state's shape changes: older snapshots are then ignored. */
  readonly snapshotSchemaVersion: number;
}

export interface LoadedAggregate<State> {
  readonly state: State;
  readonly version: number;
}

export interface CommandResult<State> extends LoadedAggregate<State> {
  readonly events: readonly AnyEventEnvelope[];
}

export interface CommandHandlerOptions {
  readonly store: EventStore;
  readonly clock: Clock;
  /** Save a snapshot once this many events follow the last one. */
  readonly snapshotEvery: number;
}

/** Aggregates whose folded state is kept between commands (least recently used ones go first). */
const CACHED_AGGREGATES = 5000;

type Loaded<State> = LoadedAggregate<State> & { readonly snapshotVersion: number };

export class CommandHandler<Command, State, Event extends AnyNewEvent> {
  /**
   * Folded state by stream, at the version it was folded to: only a starting point, as every load
   * still reads the stream from there on (other processes' appends are seen). States are never
   * changed in place (deciders are pure), so sharing them is safe.
   */
  private readonly folded = new Map<string, Loaded<State>>();

  constructor(
    private readonly decider: Decider<Command, State, Event>,
    private readonly options: CommandHandlerOptions,
  ) {}

  /** Current state: the folded state kept from last time (or the latest usable snapshot), then the events after it. */
  async load(streamId: string): Promise<Loaded<State>> {
    let start = this.folded.get(streamId);
    if (!start) {
      const snapshot = await this.options.store.loadSnapshot<State>(streamId);
      const usable = snapshot && snapshot.schemaVersion === this.decider.snapshotSchemaVersion ? snapshot : null;
      start = { state: usable ? usable.state : this.decider.initialState, version: usable?.version ?? 0, snapshotVersion: usable?.version ?? 0 };
    }
    let { state, version } = start;
    for (const event of await this.options.store.readStream(streamId, version + 1)) {
      state = this.decider.evolve(state, event);
      version = event.streamVersion;
    }
    const loaded = { state, version, snapshotVersion: start.snapshotVersion };
    this.remember(streamId, loaded);
    return loaded;
  }

  private remember(streamId: string, loaded: Loaded<State>): void {
    this.folded.delete(streamId);
    if (this.folded.size >= CACHED_AGGREGATES) {
      const oldest = this.folded.keys().next().value;
      if (oldest !== undefined) this.folded.delete(oldest);
    }
    this.folded.set(streamId, loaded);
  }

  /** State from every event, ignoring snapshots (to check snapshots against). */
  async loadFromEvents(streamId: string): Promise<LoadedAggregate<State>> {
    let state = this.decider.initialState;
    let version = 0;
    for (const event of await this.options.store.readStream(streamId, 1)) {
      state = this.decider.evolve(state, event);
      version = event.streamVersion;
    }
    return { state, version };
  }

  /**
   * Decide and append. `expectedVersion`, when the caller gives one, must equal the stream's
   * version (else CONFLICT naming both). The append itself always expects the version loaded,
   * so a concurrent writer between load and append also ends in CONFLICT, never a lost update.
   */
  async handle(
    streamId: string,
    command: Command,
    context: CausationContext,
    expectedVersion?: number,
    eventIds?: readonly string[],
  ): Promise<CommandResult<State>> {
    const loaded = await this.load(streamId);
    if (expectedVersion !== undefined && expectedVersion !== loaded.version) {
      throw new ConcurrencyError(streamId, expectedVersion, loaded.version);
    }
    const decided = this.decider.decide(command, loaded.state, this.options.clock.now());
    if (decided.length === 0) return { state: loaded.state, version: loaded.version, events: [] };
    const toAppend = decided.map((e, i) => (eventIds?.[i] ? { ...e, id: eventIds[i] } : e)) as AnyNewEvent[];
    const result = await this.options.store.append(streamId, toAppend, { expectedVersion: loaded.version, context });
    let state = loaded.state;
    for (const event of result.events) state = this.decider.evolve(state, event);
    const snapshotDue = result.nextExpectedVersion - loaded.snapshotVersion >= this.options.snapshotEvery;
    // Keep the new state only when these events are the ones just appended after the loaded version
    // (an idempotent re-append hands back events stored before: start from the store next time).
    if (result.events[0]?.streamVersion === loaded.version + 1) {
      this.remember(streamId, { state, version: result.nextExpectedVersion, snapshotVersion: snapshotDue ? result.nextExpectedVersion : loaded.snapshotVersion });
    } else {
      this.folded.delete(streamId);
    }
    if (snapshotDue) {
      await this.options.store.saveSnapshot({
        streamId,
        version: result.nextExpectedVersion,
        schemaVersion: this.decider.snapshotSchemaVersion,
        state,
        takenAt: this.options.clock.now().toISOString(),
      });
    }
    return { state, version: result.nextExpectedVersion, events: result.events };
  }
}
