// An event contract from the schema registry, for docs and the event monitor.
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An event type of the schema registry: its current version and payload schema.' })
export class EventContract {
  @Field(() => ID, { description: 'Unique id: the event type.' })
  get id(): string {
    return this.type;
  }

  @Field({ description: 'The event type, which is also its RabbitMQ routing key.' })
  type!: string;

  @Field(() => Int, { description: 'The current version of its payload schema.' })
  version!: number;

  @Field({ description: 'What the event means.' })
  description!: string;

  @Field(() => [Int], { description: 'Versions still read (older ones are upcast).' })
  readableVersions!: number[];

  @Field(() => GraphQLJSON, { description: 'JSON Schema of the current payload.' })
  jsonSchema!: unknown;
}
