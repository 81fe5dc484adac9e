// The four subgraphs, by name: how to assemble each one and where each listens by default.
import type { Backends } from '../messaging/backends';
import type { Config } from '../platform/config';
import type { SubgraphModule } from './common/subgraph-module';
import type { SubgraphName } from './common/subgraph-server';
import { createMemberModule } from './member/module';
import { createPaymentModule } from './payment/module';
import { createCertificationModule } from './certification/module';
import { createAnalyticsModule } from './analytics/module';

/** The part of the configuration subgraph modules read. */
export type ModuleConfig = Pick<
  Config,
  'SNAPSHOT_EVERY' | 'FOLLOWER_POLL_MS' | 'SAGA_STEP_TIMEOUT_MS' | 'ANALYTICS_ALLOWED_LATENESS_MS' | 'ANALYTICS_TICK_MS' | 'QUEUE_PREFIX'
>;

export interface SubgraphEntry {
  readonly name: SubgraphName;
  readonly defaultPort: number;
  readonly create: (backends: Backends, cfg: ModuleConfig) => Promise<SubgraphModule>;
}

export const subgraphEntries: readonly SubgraphEntry[] = [
  { name: 'member', defaultPort: 4001, create: createMemberModule },
  { name: 'payment', defaultPort: 4002, create: createPaymentModule },
  { name: 'certification', defaultPort: 4003, create: createCertificationModule },
  { name: 'analytics', defaultPort: 4004, create: createAnalyticsModule },
];
