// The certification subgraph assembled: the catalogue today; the lifecycle as it lands.
import type { Backends } from '../../messaging/backends';
import { buildFederatedSchema } from '../common/build-federated-schema';
import type { SubgraphModule } from '../common/subgraph-module';
import { CertificationTypeResolver, resolveCertificationTypeReference } from './graphql/certification-type.resolver';

export async function createCertificationModule(_backends: Backends): Promise<SubgraphModule> {
  const schema = await buildFederatedSchema({
    resolvers: [CertificationTypeResolver],
    referenceResolvers: { CertificationType: { __resolveReference: resolveCertificationTypeReference } },
  });
  return { name: 'certification', schema, start: async () => {}, close: async () => {} };
}
