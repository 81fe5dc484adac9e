// The outbox relay's parked events as the graph shows them to admins.
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';

export enum ParkedEventStatus {
  PARKED = 'PARKED',
  REPUBLISHED = 'REPUBLISHED',
  SKIPPED = 'SKIPPED',
}
registerEnumType(ParkedEventStatus, {
  name: 'ParkedEventStatus',
  description: 'Where a parked event stands: waiting for an admin, or settled one way or the other.',
  valuesConfig: {
    PARKED: { description: 'Set aside, waiting for an admin to retry or skip it.' },
    REPUBLISHED: { description: 'Published again by an admin (final).' },
    SKIPPED: { description: 'Skipped for good by an admin (final); it stays in the store.' },
  },
});

@ObjectType({ description: 'An event the bus could not publish for a reason retrying cannot fix: set aside (it stays in the store) so later events flow on.' })
export class ParkedEvent {
  @Field(() => ID, { description: "The parked event's id (its event id)." })
  id!: string;

  @Field(() => ID, { description: 'The id of the event that could not be published (what retryParkedEvent and skipParkedEvent take).' })
  eventId!: string;

  @Field({ description: "The event's type, e.g. member.created (see `eventContracts`)." })
  type!: string;

  @Field({ description: 'The stream (aggregate) the event belongs to.' })
  streamId!: string;

  @Field(() => Int, { description: 'Its global position in the store.' })
  position!: number;

  @Field({ description: 'The correlation id of the request that caused the event.' })
  correlationId!: string;

  @Field({ description: 'Why the bus refused it (the last attempt).' })
  reason!: string;

  @Field(() => ParkedEventStatus, { description: 'Waiting, republished or skipped.' })
  status!: ParkedEventStatus;

  @Field(() => Int, { description: 'Publishes that failed for good: 1 when parked, one more per failed retry.' })
  failedAttempts!: number;

  @Field(() => Date, { description: 'When the relay set it aside.' })
  parkedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When an admin republished or skipped it (null while parked).' })
  resolvedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The admin who republished or skipped it.' })
  resolvedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was skipped.' })
  note!: string | null;
}

@ObjectType({ description: 'A page of parked events, in store order.' })
export class ParkedEventConnection extends ConnectionOf(ParkedEvent, 'ParkedEvent', 'parked event') {}
