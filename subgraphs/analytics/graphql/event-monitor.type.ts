// The event monitor as the graph shows it to admins.
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ConsumerKind {
  CONSUMER = 'consumer',
  FOLLOWER = 'follower',
}
registerEnumType(ConsumerKind, {
  name: 'ConsumerKind',
  description: 'How a reader of the events gets them.',
  valuesConfig: {
    CONSUMER: { description: 'A bus consumer with a durable queue of its own (replayable by its name).' },
    FOLLOWER: { description: "Follows the event store's order: a projection or the outbox relay." },
  },
});

@ObjectType({ description: 'Where one consumer, projection or the outbox relay stands.' })
export class ConsumerStatus {
  @Field(() => ID, { description: 'Unique id: its name.' })
  id!: string;

  @Field()
  name!: string;

  @Field(() => ConsumerKind, { description: 'CONSUMER (a bus queue) or FOLLOWER (follows the store: projections, the outbox relay).' })
  kind!: ConsumerKind;

  @Field(() => Int, { description: 'Highest global position processed.' })
  position!: number;

  @Field(() => Int, { description: 'Events in the store after that position.' })
  lag!: number;

  @Field(() => Int, { nullable: true })
  processed!: number | null;

  @Field(() => Int, { nullable: true, description: 'Redeliveries acknowledged without a second effect.' })
  skippedDuplicates!: number | null;

  @Field(() => Int, { nullable: true, description: "Messages in the consumer's dead-letter queue." })
  deadLetters!: number | null;

  @Field(() => Date, { nullable: true })
  lastEventAt!: Date | null;
}

@ObjectType({ description: "This process's bus traffic for one event type since it started." })
export class EventTypeTraffic {
  @Field(() => ID, { description: 'Unique id: the event type.' })
  id!: string;

  @Field()
  type!: string;

  @Field(() => Int)
  published!: number;

  @Field(() => Int)
  consumed!: number;

  @Field(() => Int)
  retried!: number;

  @Field(() => Int)
  deadLettered!: number;
}

@ObjectType({ description: 'Health of the event backbone: consumer lag, dead letters, traffic per type.' })
export class EventMonitor {
  @Field(() => Int, { description: 'Global position of the newest settled event.' })
  headPosition!: number;

  @Field(() => Int)
  deadLetterTotal!: number;

  @Field(() => [ConsumerStatus])
  consumers!: ConsumerStatus[];

  @Field(() => [EventTypeTraffic], { description: 'Counted by the process serving this query (all of them with `npm start`).' })
  types!: EventTypeTraffic[];

  @Field(() => Date)
  takenAt!: Date;
}
