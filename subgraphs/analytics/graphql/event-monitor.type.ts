// The event monitor as the graph shows it to admins.
import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Where one consumer, projection or the outbox relay stands.' })
export class ConsumerStatus {
  @Field()
  name!: string;

  @Field({ description: '`consumer` (bus queue) or `follower` (follows the store: projections, outbox relay).' })
  kind!: string;

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

@ObjectType({ description: "The deployment's bus traffic for one event type: every process's counts, each written within a second." })
export class EventTypeTraffic {
  @Field()
  type!: string;

  @Field(() => Int, { description: 'Times an event of this type was published to the bus.' })
  published!: number;

  @Field(() => Int, { description: 'Deliveries acknowledged, one per queue that took the event (consumers and live feeds).' })
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

  @Field(() => [EventTypeTraffic], { description: 'Counted by every process of the deployment, whichever answers.' })
  types!: EventTypeTraffic[];

  @Field(() => Date)
  takenAt!: Date;
}
