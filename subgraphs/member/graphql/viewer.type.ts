// The caller as the gateway authenticated it.
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../../common/role';

@ObjectType({ description: 'Who is calling, from the bearer token.' })
export class Viewer {
  @Field(() => ID, { description: 'The subject of the token: a member id or an admin id.' })
  id!: string;

  @Field(() => Role, { description: 'MEMBER or ADMIN, from the token.' })
  role!: Role;
}
