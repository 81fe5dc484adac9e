// The caller as the gateway authenticated it.
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum RoleValue {
  MEMBER = 'member',
  ADMIN = 'admin',
}
registerEnumType(RoleValue, { name: 'Role', description: 'What a caller may do: act on itself, or on anyone.' });

@ObjectType({ description: 'Who is calling, from the bearer token.' })
export class Viewer {
  @Field(() => ID, { description: 'The subject of the token: a member id or an admin id.' })
  id!: string;

  @Field(() => RoleValue)
  role!: RoleValue;
}
