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

export class CommandHandler<Command, State, Event extends AnyNewEvent> {
  constructor(
    private readonly decider: Decider<Command, State, Event>,
    private readonly options: CommandHandlerOptions,
  ) {}

  /** Current state: latest usable snapshot, then the events after it. */
  async load(streamId: string): Promise<LoadedAggregate<State> & { snapshotVersion: number }> {
    const snapshot = await this.options.store.loadSnapshot<State>(streamId);
    const usable = snapshot && snapshot.schemaVersion === this.decider.snapshotSchemaVersion ? snapshot : null;
    let state = usable ? usable.state : this.decider.initialState;
    let version = usable ? usable.version : 0;
    for (const event of await this.options.store.readStream(streamId, version + 1)) {
      state = this.decider.evolve(state, event);
      version = event.streamVersion;
    }
    return { state, version, snapshotVersion: usable?.version ?? 0 };
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
    if (result.nextExpectedVersion - loaded.snapshotVersion >= this.options.snapshotEvery) {
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
