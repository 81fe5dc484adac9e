// GraphQL types of replays: a run (range, targets, status, progress, final stats), its per-target
// figures, the targets one can name, and the `replayProgress` subscription payload.
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import { EventUpdate } from '../../common/subscription-payload';

export enum ReplayStatus {
  PENDING = 'pending',
  RUNNING = 'running',
  COMPLETED = 'completed',
  CANCELLED = 'cancelled',
  FAILED = 'failed',
}
registerEnumType(ReplayStatus, { name: 'ReplayStatus', description: 'Where a replay stands; COMPLETED, CANCELLED and FAILED are final.' });

export enum ReplayKind {
  REPLAY = 'replay',
  REBUILD = 'rebuild',
}
registerEnumType(ReplayKind, { name: 'ReplayKind', description: 'REPLAY feeds consumers a time range; REBUILD rebuilds projections from the whole history.' });

export enum ReplayTargetKind {
  CONSUMER = 'consumer',
  PROJECTION = 'projection',
}
registerEnumType(ReplayTargetKind, { name: 'ReplayTargetKind' });

@ObjectType({ description: 'One target of a replay: deliveries it had to process, processed, and failed.' })
export class ReplayTargetStats {
  @Field()
  name!: string;

  @Field(() => ReplayTargetKind)
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
  @Field()
  target!: string;

  @Field(() => ID)
  eventId!: string;

  @Field()
  eventType!: string;

  @Field()
  reason!: string;
}

@ObjectType({ description: 'The figures of a finished replay.' })
export class ReplayStats {
  @Field(() => Int, { description: 'Distinct events read from the store and published on the replay topic.' })
  events!: number;

  @Field(() => Int, { description: 'Deliveries made (an event to each target that handles it).' })
  processed!: number;

  @Field(() => Int)
  total!: number;

  @Field(() => Int)
  errors!: number;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => Float, { description: 'Deliveries per second over the whole run.' })
  ratePerSecond!: number;

  @Field(() => [ReplayTargetStats])
  targets!: ReplayTargetStats[];
}

@ObjectType({ description: 'A replay of stored events to chosen consumers, or a rebuild of a projection.' })
export class Replay {
  @Field(() => ID)
  id!: string;

  @Field(() => ReplayKind)
  kind!: ReplayKind;

  @Field(() => ReplayStatus)
  status!: ReplayStatus;

  @Field(() => Date, { description: 'Start of the range (inclusive), by the time events were recorded.' })
  from!: Date;

  @Field(() => Date, { description: 'End of the range (exclusive).' })
  to!: Date;

  @Field(() => [String], { nullable: true, description: 'Only these event types (all the targets handle when null).' })
  types!: string[] | null;

  @Field(() => [String])
  targets!: string[];

  @Field()
  requestedBy!: string;

  @Field(() => Date)
  requestedAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field({ description: 'True once a cancel was asked for.' })
  cancelRequested!: boolean;

  @Field(() => Int, { description: 'Distinct events in the range the targets handle (0 until counted).' })
  events!: number;

  @Field(() => Int, { description: 'Deliveries processed so far (an event to each target that handles it).' })
  processed!: number;

  @Field(() => Int, { description: 'Deliveries to make.' })
  total!: number;

  @Field(() => Int)
  errors!: number;

  @Field(() => Float, { description: 'Deliveries per second so far.' })
  ratePerSecond!: number;

  @Field(() => Float, { nullable: true, description: 'Seconds left at the current rate (null until there is a rate).' })
  estimatedSecondsLeft!: number | null;

  @Field(() => [ReplayTargetStats])
  targetStats!: ReplayTargetStats[];

  @Field(() => ReplayStats, { nullable: true, description: 'Set when the replay is finished.' })
  stats!: ReplayStats | null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED replay stopped.' })
  error!: string | null;

  @Field(() => [ReplayError])
  sampleErrors!: ReplayError[];
}

@ObjectType({ description: 'Something one can replay to: a bus consumer or a rebuildable projection.' })
export class ReplayTargetInfo {
  @Field(() => ID, { description: 'Unique id: its name.' })
  get id(): string {
    return this.name;
  }

  @Field()
  name!: string;

  @Field(() => ReplayTargetKind)
  kind!: ReplayTargetKind;

  @Field(() => [String])
  handles!: string[];
}

@ObjectType({ description: 'Progress of a replay, pushed by the `replayProgress` subscription (throttled).' })
export class ReplayProgress extends EventUpdate {
  /** Not a field: the key `replay` is read by. */
  replayId!: string;

  @Field(() => Replay, { description: 'The replay as it stands now.' })
  replay!: Replay;

  @Field(() => ReplayStatus, { description: 'The status this update reports (RUNNING until the final one).' })
  status!: ReplayStatus;

  @Field(() => Int)
  processed!: number;

  @Field(() => Int)
  total!: number;

  @Field(() => Float)
  ratePerSecond!: number;

  @Field(() => Float, { nullable: true })
  estimatedSecondsLeft!: number | null;

  @Field(() => Int)
  errors!: number;

  @Field(() => [ReplayTargetStats])
  targets!: ReplayTargetStats[];

  @Field(() => ReplayStats, { nullable: true, description: 'The final stats, on the last update.' })
  stats!: ReplayStats | null;

  @Field({ description: 'True on the last update (the subscription completes after it).' })
  final!: boolean;
}

@ObjectType({ description: 'A page of replays, most recently requested first.' })
export class ReplayConnection extends ConnectionOf(Replay, 'Replay', 'replay') {}
