// The certification subgraph assembled: the catalogue, the lifecycle service, the read model
// projection following the event store, and the schema whose resolvers use them. The expiry
// scheduler runs in the worker process (./workers.ts), not here.
import type { Backends } from '../../messaging/backends';
import { documentCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import type { Config } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import { buildFederatedSchema } from '../common/build-federated-schema';
import type { SubgraphContext } from '../common/context';
import { topicsNotSupported } from '../common/subscription-payload';
import { resolverContainer, type SubgraphModule } from '../common/subgraph-module';
import { certificationEventTypes } from './domain/certification';
import { CertificationService } from './domain/certification-service';
import { CertificationTypeResolver, resolveCertificationTypeReference } from './graphql/certification-type.resolver';
import { CertificationResolver, readCertification, type CertificationResolverDeps } from './graphql/certification.resolver';
import { MemberRef } from './graphql/certification.type';
import { CertificationUpdateResolver } from './graphql/certification-update.resolver';
import { MemberCertificationsResolver } from './graphql/member-certifications.resolver';
import { certificationReadModelProjection, certificationsCollection } from './projections/certification-read-model';

export interface CertificationModule extends SubgraphModule {
  readonly service: CertificationService;
  readonly readModel: StoreFollower;
}

export async function createCertificationModule(
  backends: Backends,
  cfg: Pick<Config, 'SNAPSHOT_EVERY' | 'FOLLOWER_POLL_MS'>,
): Promise<CertificationModule> {
  const logger = loggerFor('certification-subgraph');
  const { store, documents, clock } = backends;
  const service = new CertificationService(store, documents, clock, cfg.SNAPSHOT_EVERY);
  const certifications = certificationsCollection(documents);
  const readModel = new StoreFollower(
    'certification-read-model',
    store,
    documentCheckpoint(documents, 'certification-read-model', () => clock.now()),
    certificationReadModelProjection(certifications),
    logger,
    { types: certificationEventTypes, pollIntervalMs: cfg.FOLLOWER_POLL_MS },
  );
  const deps: CertificationResolverDeps = { service, certifications };
  const schema = await buildFederatedSchema({
    resolvers: [CertificationTypeResolver, CertificationResolver, MemberCertificationsResolver, CertificationUpdateResolver],
    orphanedTypes: [MemberRef],
    pubSub: topicsNotSupported,
    container: resolverContainer([
      new CertificationResolver(deps),
      new MemberCertificationsResolver(deps),
      new CertificationUpdateResolver({ service }),
    ]),
    referenceResolvers: {
      CertificationType: { __resolveReference: resolveCertificationTypeReference },
      Certification: {
        __resolveReference: (reference: { id: string }, ctx: SubgraphContext) => readCertification(deps, reference.id, ctx),
      },
      Member: { __resolveReference: (reference: { id: string }) => Object.assign(new MemberRef(), { id: reference.id }) },
    },
  });
  let offAppend: (() => void) | null = null;
  return {
    name: 'certification',
    schema,
    service,
    readModel,
    start: async () => {
      offAppend = backends.onAppend((appended) => readModel.wake(appended));
      await readModel.start();
    },
    close: async () => {
      offAppend?.();
      await readModel.stop();
    },
  };
}
