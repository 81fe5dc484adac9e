// The outbox relay's parked events as the graph shows them to admins.
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ParkedEventStatus {
  PARKED = 'PARKED',
  REPUBLISHED = 'REPUBLISHED',
  SKIPPED = 'SKIPPED',
}
registerEnumType(ParkedEventStatus, {
  name: 'ParkedEventStatus',
  description: 'PARKED: waiting for an admin; REPUBLISHED and SKIPPED are final.',
});

@ObjectType({ description: 'An event the bus could not publish for a reason retrying cannot fix: set aside (it stays in the store) so later events flow on.' })
export class ParkedEvent {
  @Field(() => ID)
  eventId!: string;

  @Field()
  type!: string;

  @Field()
  streamId!: string;

  @Field(() => Int, { description: 'Its global position in the store.' })
  position!: number;

  @Field()
  correlationId!: string;

  @Field({ description: 'Why the bus refused it (the last attempt).' })
  reason!: string;

  @Field(() => ParkedEventStatus)
  status!: ParkedEventStatus;

  @Field(() => Int, { description: 'Publishes that failed for good: 1 when parked, one more per failed retry.' })
  failedAttempts!: number;

  @Field(() => Date)
  parkedAt!: Date;

  @Field(() => Date, { nullable: true })
  resolvedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The admin who republished or skipped it.' })
  resolvedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was skipped.' })
  note!: string | null;
}
