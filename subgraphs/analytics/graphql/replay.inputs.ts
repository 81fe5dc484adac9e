// Inputs of the replay mutations.
import { Field, InputType } from 'type-graphql';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';

@InputType({ description: 'What to replay: a time range (recordedAt, from inclusive, to exclusive), optional types, and targets.' })
export class StartReplayInput {
  @Field(() => Date, { description: 'Start of the range, by the time events were recorded (inclusive); from 2000-01-01 on.' })
  from!: Date;

  @Field(() => Date, { description: 'Must not be in the future.' })
  to!: Date;

  @Field(() => [String], { nullable: true, description: 'Only these event types; default every type the targets handle.' })
  types?: string[] | null;

  @Field(() => [String], {
    description: 'What to replay to, by name: consumers (crm, email, audit, ...) or projections (member-read-model), as `replayTargets` and `eventMonitor` name them.',
  })
  targets!: string[];

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}
