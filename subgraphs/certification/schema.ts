// The certification subgraph's schema: the catalogue and the certification lifecycle.
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { CertificationTypeResolver, resolveCertificationTypeReference } from './graphql/certification-type.resolver';

export async function buildCertificationSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({
    resolvers: [CertificationTypeResolver],
    referenceResolvers: { CertificationType: { __resolveReference: resolveCertificationTypeReference } },
  });
}
