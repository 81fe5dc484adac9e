// The member subgraph assembled: the command service, the read model and search index projections
// following the event store, and the schema whose resolvers use them.
import type { Backends } from '../../messaging/backends';
import { documentCheckpoint, memoryCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import type { Config } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { topicsNotSupported } from '../common/subscription-payload';
import { MemberUpdateResolver } from './graphql/member-update.resolver';
import type { SubgraphContext } from '../common/context';
import { resolverContainer, type SubgraphModule } from '../common/subgraph-module';
import { MemberService } from './domain/member-service';
import { MemberResolver, resolveMemberReference, type MemberResolverDeps } from './graphql/member.resolver';
import { Member } from './graphql/member.type';
import { ViewerResolver } from './graphql/viewer.resolver';
import { MemberEffectsResolver } from './graphql/member-effects.resolver';
import { auditLog } from './consumers/audit.consumer';
import { crmContacts } from './consumers/crm.consumer';
import { mailbox } from './consumers/email.consumer';
import { memberEventTypes, memberReadModelProjection, membersCollection } from './projections/member-read-model';
import { ActiveVersions, VERSION_SWAP_EVENT_TYPES, versionedCollection } from '../../messaging/replay/projection-versions';
import { MemberSearchIndex } from './projections/member-search-index';

export interface MemberModule extends SubgraphModule {
  readonly service: MemberService;
  readonly readModel: StoreFollower;
  readonly searchIndex: StoreFollower;
  /** Follows the ends of replays, to forget the read model's remembered active version. */
  readonly versionSwaps: StoreFollower;
}

export async function createMemberModule(
  backends: Backends,
  cfg: Pick<Config, 'SNAPSHOT_EVERY' | 'FOLLOWER_POLL_MS'>,
): Promise<MemberModule> {
  const logger = loggerFor('member-subgraph');
  const { store, documents, clock } = backends;
  const service = new MemberService(store, documents, clock, cfg.SNAPSHOT_EVERY);
  // Always the active version: a rebuild (replay target member-read-model) swaps in a new one.
  // Reads remember the version until a replay's end reaches this process (versionSwaps).
  const activeVersions = new ActiveVersions(documents);
  const members = versionedCollection(documents, 'member-read-model', 'members', (name) => membersCollection(documents, name), activeVersions);
  const index = new MemberSearchIndex(() => clock.now());
  const followerOptions = { types: memberEventTypes, pollIntervalMs: cfg.FOLLOWER_POLL_MS };
  const readModel = new StoreFollower(
    'member-read-model',
    store,
    documentCheckpoint(documents, 'member-read-model', () => clock.now()),
    memberReadModelProjection(members),
    logger,
    followerOptions,
  );
  const searchIndex = new StoreFollower(
    'member-search-index',
    store,
    memoryCheckpoint(),
    async (batch) => index.apply(batch),
    logger,
    followerOptions,
  );
  const versionSwaps = new StoreFollower('member-read-model-version', store, memoryCheckpoint(), async (batch) => activeVersions.observe(batch), logger, {
    types: VERSION_SWAP_EVENT_TYPES,
    pollIntervalMs: cfg.FOLLOWER_POLL_MS,
  });
  const deps: MemberResolverDeps = { service, members, searchIndex: index, clock, store };
  const schema = await buildFederatedSchema({
    resolvers: [ViewerResolver, MemberResolver, MemberEffectsResolver, MemberUpdateResolver],
    orphanedTypes: [Member],
    pubSub: topicsNotSupported,
    container: resolverContainer([
      new MemberResolver(deps),
      new MemberEffectsResolver({ auditLog: auditLog(documents), crmContacts: crmContacts(documents), mailbox: mailbox(documents) }),
    ]),
    referenceResolvers: {
      Member: {
        __resolveReference: (reference: { id: string }, ctx: SubgraphContext) => resolveMemberReference(deps, reference, ctx),
      },
    },
  });
  let offAppend: (() => void) | null = null;
  return {
    name: 'member',
    schema,
    service,
    readModel,
    searchIndex,
    versionSwaps,
    start: async () => {
      offAppend = backends.onAppend((appended) => {
        readModel.wake(appended);
        searchIndex.wake(appended);
        versionSwaps.wake(appended);
      });
      await versionSwaps.start();
      await readModel.start();
      await searchIndex.start();
      await searchIndex.caughtUp();
    },
    close: async () => {
      offAppend?.();
      await readModel.stop();
      await searchIndex.stop();
      await versionSwaps.stop();
    },
  };
}
