// `Role`: who a caller or an actor is, one enum wherever the API shows it (the viewer, the actor of
// an audit entry or a certification transition). Its values are the roles tokens and events carry.
import { registerEnumType } from 'type-graphql';

export enum Role {
  MEMBER = 'member',
  ADMIN = 'admin',
  SYSTEM = 'system',
}
registerEnumType(Role, {
  name: 'Role',
  description: 'Who acts: a member on itself, an admin on anyone, or the system itself.',
  valuesConfig: {
    MEMBER: { description: 'A member, acting on itself.' },
    ADMIN: { description: 'An administrator, acting on anyone.' },
    SYSTEM: { description: 'The platform itself (the certification expiry scheduler, sagas): an actor, never a viewer.' },
  },
});
