// `viewer`: tells a client who the API thinks it is; needs a token.
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireIdentity, type SubgraphContext } from '../../common/context';
import { Role } from '../../common/role';
import { Viewer } from './viewer.type';

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: 'The authenticated caller (UNAUTHENTICATED without a token).' })
  viewer(@Ctx() ctx: SubgraphContext): Viewer {
    const identity = requireIdentity(ctx);
    return Object.assign(new Viewer(), {
      id: identity.sub,
      role: identity.role === 'admin' ? Role.ADMIN : Role.MEMBER,
    });
  }
}
