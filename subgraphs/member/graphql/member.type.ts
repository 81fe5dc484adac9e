// The Member entity, owned by this subgraph; the other subgraphs contribute fields to it.
import { Directive, Field, ID, ObjectType } from 'type-graphql';

@Directive('@key(fields: "id")')
@ObjectType({ description: 'A member of the organisation.' })
export class Member {
  @Field(() => ID)
  id!: string;
}
