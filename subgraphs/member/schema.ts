// The member subgraph's schema: Member (owned here), the viewer, and the member slice's API.
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { Member } from './graphql/member.type';
import { ViewerResolver } from './graphql/viewer.resolver';

export async function buildMemberSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({
    resolvers: [ViewerResolver],
    orphanedTypes: [Member],
    referenceResolvers: {
      Member: { __resolveReference: (reference: { id: string }) => Object.assign(new Member(), { id: reference.id }) },
    },
  });
}
