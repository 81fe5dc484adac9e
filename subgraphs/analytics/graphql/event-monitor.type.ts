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

  @Field({ description: 'Its name, as replays and the rest of the API name it: `crm`, `member-read-model`, `outbox-relay`.' })
  name!: string;

  @Field(() => String, { nullable: true, description: "A consumer's RabbitMQ queue (the deployment's QUEUE_PREFIX and its name, e.g. `membership.crm`); null for followers." })
  queue!: string | null;

  @Field(() => ConsumerKind, { description: 'CONSUMER (a bus queue) or FOLLOWER (follows the store: projections, the outbox relay).' })
  kind!: ConsumerKind;

  @Field(() => Int, { description: 'Highest global position processed.' })
  position!: number;

  @Field(() => Int, { description: 'Events in the store after that position.' })
  lag!: number;

  @Field(() => Int, { nullable: true, description: 'Events a consumer handled (null for followers).' })
  processed!: number | null;

  @Field(() => Int, { nullable: true, description: 'Redeliveries acknowledged without a second effect.' })
  skippedDuplicates!: number | null;

  @Field(() => Int, { nullable: true, description: "Messages in the consumer's dead-letter queue." })
  deadLetters!: number | null;

  @Field(() => Date, { nullable: true, description: 'When it last processed an event (a follower: last saved its position).' })
  lastEventAt!: Date | null;
}

@ObjectType({ description: "The deployment's bus traffic for one event type: every process's counts, each written within a second." })
export class EventTypeTraffic {
  @Field(() => ID, { description: 'Unique id: the event type.' })
  id!: string;

  @Field({ description: 'The event type.' })
  type!: string;

  @Field(() => Int, { description: 'Times an event of this type was published to the bus.' })
  published!: number;

  @Field(() => Int, { description: 'Deliveries acknowledged, one per queue that took the event (consumers and live feeds).' })
  consumed!: number;

  @Field(() => Int, { description: 'Deliveries of this type that failed and were retried.' })
  retried!: number;

  @Field(() => Int, { description: 'Deliveries of this type that were dead-lettered.' })
  deadLettered!: number;
}

@ObjectType({ description: 'Health of the event backbone: consumer lag, dead letters, traffic per type.' })
export class EventMonitor {
  @Field(() => Int, { description: 'Global position of the newest settled event.' })
  headPosition!: number;

  @Field(() => Int, { description: "Messages in every consumer's dead-letter queue together." })
  deadLetterTotal!: number;

  @Field(() => [ConsumerStatus], { description: 'Every consumer, projection and the outbox relay, by name.' })
  consumers!: ConsumerStatus[];

  @Field(() => [EventTypeTraffic], { description: 'Counted by every process of the deployment, whichever answers.' })
  types!: EventTypeTraffic[];

  @Field(() => Date, { description: 'When these figures were read.' })
  takenAt!: Date;
}
