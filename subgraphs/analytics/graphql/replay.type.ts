// GraphQL types of replays: a run (range, targets, status, progress, final stats), its per-target
// figures, the targets one can name, and the `replayProgress` subscription payload.
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import type { EventType } from '../../../messaging/events/catalog';
import { EventUpdate, eventTypeDescription } from '../../common/subscription-payload';

/** The replay events `replayProgress` pushes. */
export const replayProgressEventTypes = [
  'replay.started',
  'replay.progressed',
  'replay.completed',
  'replay.cancelled',
  'replay.failed',
] as const satisfies readonly EventType[];


export enum ReplayStatus {
  PENDING = 'pending',
  RUNNING = 'running',
  COMPLETED = 'completed',
  CANCELLED = 'cancelled',
  FAILED = 'failed',
}
registerEnumType(ReplayStatus, {
  name: 'ReplayStatus',
  description: 'Where a replay stands; COMPLETED, CANCELLED and FAILED are final.',
  valuesConfig: {
    PENDING: { description: 'Asked for; no worker has claimed it yet.' },
    RUNNING: { description: 'A worker is replaying it.' },
    COMPLETED: { description: 'Every delivery was made (failures are counted and dead-lettered).' },
    CANCELLED: { description: 'Cancelled by an admin.' },
    FAILED: { description: 'Stopped by an error (see `error`): start it again.' },
  },
});

export enum ReplayKind {
  REPLAY = 'replay',
  REBUILD = 'rebuild',
}
registerEnumType(ReplayKind, {
  name: 'ReplayKind',
  description: 'REPLAY feeds consumers a time range; REBUILD rebuilds projections from the whole history.',
  valuesConfig: {
    REPLAY: { description: 'Events of a time range, fed to consumers again.' },
    REBUILD: { description: 'A projection rebuilt from the whole history into a new version.' },
  },
});

export enum ReplayTargetKind {
  CONSUMER = 'consumer',
  PROJECTION = 'projection',
}
registerEnumType(ReplayTargetKind, {
  name: 'ReplayTargetKind',
  description: 'What a replay target is.',
  valuesConfig: {
    CONSUMER: { description: 'A bus consumer: replayed events go through its idempotent handler, without outward effects.' },
    PROJECTION: { description: 'A rebuildable projection: rebuilt into a new version, then swapped in.' },
  },
});

@ObjectType({ description: 'One target of a replay: deliveries it had to process, processed, and failed.' })
export class ReplayTargetStats {
  @Field({ description: 'The target, by name (as in Replay.targets).' })
  name!: string;

  @Field(() => ReplayTargetKind, { description: 'CONSUMER or PROJECTION.' })
  kind!: ReplayTargetKind;

  @Field(() => Int, { description: 'Events of the range this target handles.' })
  total!: number;

  @Field(() => Int, { description: 'Of those, processed (acknowledged or dead-lettered).' })
  processed!: number;

  @Field(() => Int, { description: 'Deliveries that failed and were dead-lettered.' })
  errors!: number;

  @Field(() => String, { nullable: true, description: 'The queue whose dead letters hold the failures (kept after the replay).' })
  deadLetterQueue!: string | null;
}

@ObjectType({ description: 'A failed delivery of a replay (the first few; all are dead-lettered).' })
export class ReplayError {
  @Field({ description: 'The target that failed to process the event.' })
  target!: string;

  @Field(() => ID, { description: 'The event it failed on.' })
  eventId!: string;

  @Field({ description: "That event's type." })
  eventType!: string;

  @Field({ description: 'Why it failed, in words.' })
  reason!: string;
}

@ObjectType({ description: 'The figures of a finished replay.' })
export class ReplayStats {
  @Field(() => Int, { description: 'Distinct events read from the store and published on the replay topic.' })
  events!: number;

  @Field(() => Int, { description: 'Deliveries made (an event to each target that handles it).' })
  processed!: number;

  @Field(() => Int, { description: 'Deliveries there were to make.' })
  total!: number;

  @Field(() => Int, { description: 'Deliveries that failed (dead-lettered).' })
  errors!: number;

  @Field(() => Int, { description: 'How long the run took, in milliseconds.' })
  durationMs!: number;

  @Field(() => Float, { description: 'Deliveries per second over the whole run.' })
  ratePerSecond!: number;

  @Field(() => [ReplayTargetStats], { description: 'The figures per target.' })
  targets!: ReplayTargetStats[];
}

@ObjectType({ description: 'A replay of stored events to chosen consumers, or a rebuild of a projection.' })
export class Replay {
  @Field(() => ID, { description: 'Unique id of the replay.' })
  id!: string;

  @Field(() => ReplayKind, { description: 'REPLAY (feeds consumers a range) or REBUILD (rebuilds a projection).' })
  kind!: ReplayKind;

  @Field(() => ReplayStatus, { description: 'Where it stands.' })
  status!: ReplayStatus;

  @Field(() => Date, { description: 'Start of the range (inclusive), by the time events were recorded.' })
  from!: Date;

  @Field(() => Date, { description: 'End of the range (exclusive).' })
  to!: Date;

  @Field(() => [String], { nullable: true, description: 'Only these event types (all the targets handle when null).' })
  types!: string[] | null;

  @Field(() => [String], { description: 'What it replays to, by name (as `replayTargets` and `eventMonitor` name them).' })
  targets!: string[];

  @Field({ description: 'The admin who asked for it.' })
  requestedBy!: string;

  @Field(() => Date, { description: 'When it was asked for.' })
  requestedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When a worker started it; null while PENDING.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it ended; null until it does.' })
  finishedAt!: Date | null;

  @Field({ description: 'True once a cancel was asked for.' })
  cancelRequested!: boolean;

  @Field(() => Int, { description: 'Distinct events in the range the targets handle (0 until counted).' })
  events!: number;

  @Field(() => Int, { description: 'Deliveries processed so far (an event to each target that handles it).' })
  processed!: number;

  @Field(() => Int, { description: 'Deliveries to make.' })
  total!: number;

  @Field(() => Int, { description: 'Deliveries that failed so far (dead-lettered).' })
  errors!: number;

  @Field(() => Float, { description: 'Deliveries per second so far.' })
  ratePerSecond!: number;

  @Field(() => Float, { nullable: true, description: 'Seconds left at the current rate (null until there is a rate).' })
  estimatedSecondsLeft!: number | null;

  @Field(() => [ReplayTargetStats], { description: 'Progress per target.' })
  targetStats!: ReplayTargetStats[];

  @Field(() => ReplayStats, { nullable: true, description: 'Set when the replay is finished.' })
  stats!: ReplayStats | null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED replay stopped.' })
  error!: string | null;

  @Field(() => [ReplayError], { description: 'The first few failed deliveries (all are in the dead-letter queues).' })
  sampleErrors!: ReplayError[];
}

@ObjectType({ description: 'Something one can replay to: a bus consumer or a rebuildable projection.' })
export class ReplayTargetInfo {
  @Field(() => ID, { description: 'Unique id: its name.' })
  get id(): string {
    return this.name;
  }

  @Field({ description: 'Its name, as `startReplay` and `eventMonitor` use it.' })
  name!: string;

  @Field(() => ReplayTargetKind, { description: 'CONSUMER or PROJECTION.' })
  kind!: ReplayTargetKind;

  @Field(() => [String], { description: 'The event types it processes.' })
  handles!: string[];
}

@ObjectType({ description: 'Progress of a replay, pushed by the `replayProgress` subscription (throttled).' })
export class ReplayProgress extends EventUpdate {
  @Field({ description: eventTypeDescription("Which step of the replay's run this is", replayProgressEventTypes) })
  override eventType!: string;

  /** Not a field: the key `replay` is read by. */
  replayId!: string;

  @Field(() => Replay, { description: 'The replay as it stands now.' })
  replay!: Replay;

  @Field(() => ReplayStatus, { description: 'The status this update reports (RUNNING until the final one).' })
  status!: ReplayStatus;

  @Field(() => Int, { description: 'Deliveries processed so far.' })
  processed!: number;

  @Field(() => Int, { description: 'Deliveries to make.' })
  total!: number;

  @Field(() => Float, { description: 'Deliveries per second so far.' })
  ratePerSecond!: number;

  @Field(() => Float, { nullable: true, description: 'Seconds left at the current rate; null until there is a rate.' })
  estimatedSecondsLeft!: number | null;

  @Field(() => Int, { description: 'Deliveries that failed so far.' })
  errors!: number;

  @Field(() => [ReplayTargetStats], { description: 'Progress per target.' })
  targets!: ReplayTargetStats[];

  @Field(() => ReplayStats, { nullable: true, description: 'The final stats, on the last update.' })
  stats!: ReplayStats | null;

  @Field({ description: 'True on the last update (the subscription completes after it).' })
  final!: boolean;
}

@ObjectType({ description: 'A page of replays, most recently requested first.' })
export class ReplayConnection extends ConnectionOf(Replay, 'Replay', 'replay') {}
