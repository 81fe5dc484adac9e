// The analytics subgraph assembled: the event registry and monitor; activity tracking; the stream
// processor (windows, engagement, risk, CEP rules) and the read model its events feed.
import type { Backends } from '../../messaging/backends';
import { documentCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import type { Config } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import { Lease, LeasedRunner, LEASE_RENEW_MS, LEASE_TTL_MS, leaseOwnerId } from '../../messaging/state/lease';
import { buildFederatedSchema } from '../common/build-federated-schema';
import { resolverContainer, type SubgraphModule } from '../common/subgraph-module';
import { topicsNotSupported } from '../common/subscription-payload';
import { ActivityTracker } from './activity-tracker';
import { defaultRules } from './domain/cep-rules';
import { ActivityResolver } from './graphql/activity.resolver';
import type { AnalyticsDeps } from './graphql/analytics-deps';
import { AnalyticsMember } from './graphql/analytics.types';
import { EventContractResolver } from './graphql/event-contract.resolver';
import { EventMonitorResolver } from './graphql/event-monitor.resolver';
import { ParkedEventsResolver } from './graphql/parked-events.resolver';
import { ParkedEvents } from '../../messaging/outbox/parked-events';
import { IdempotencyKeys } from '../../messaging/state/idempotency-keys';
import { MemberAnalyticsResolver } from './graphql/member-analytics.resolver';
import { PatternDetectedResolver } from './graphql/pattern-detected.resolver';
import { EventFlowResolver } from './graphql/event-flow.resolver';
import { DeadLettersResolver } from './graphql/dead-letters.resolver';
import { DeadLetters } from '../../messaging/monitor/dead-letters';
import { PatternResolver } from './graphql/patterns.resolver';
import { analyticsCollections, analyticsReadModelProjection, readModelEventTypes } from './projections/analytics-read-model';
import { lateEvents, StreamProcessorRunner } from './stream/processor-runner';
import { ReplayService } from '../../messaging/replay/replay-service';
import { ReplayResolver } from './graphql/replay.resolver';
import { ReplayProgressResolver, registerReplayProgressSource } from './graphql/replay-progress.resolver';

export interface AnalyticsModule extends SubgraphModule {
  readonly processor: StreamProcessorRunner;
  /** Runs the stream processor while this instance holds its lease (`isActive`); tests `check()` it. */
  readonly processorLease: LeasedRunner;
  readonly readModel: StoreFollower;
}

/** The lease under which one analytics instance of a deployment runs the stream processor. */
export const PROCESSOR_LEASE = 'analytics-stream-processor';

export type AnalyticsModuleConfig = Pick<Config, 'FOLLOWER_POLL_MS' | 'ANALYTICS_ALLOWED_LATENESS_MS' | 'ANALYTICS_TICK_MS' | 'QUEUE_PREFIX'>;

export async function createAnalyticsModule(backends: Backends, cfg: AnalyticsModuleConfig): Promise<AnalyticsModule> {
  const logger = loggerFor('analytics-subgraph');
  const { store, documents, clock } = backends;
  const rules = defaultRules;
  const processor = new StreamProcessorRunner({
    store,
    documents,
    clock,
    logger,
    rules,
    allowedLatenessMs: cfg.ANALYTICS_ALLOWED_LATENESS_MS,
    tickMs: cfg.ANALYTICS_TICK_MS,
    pollIntervalMs: cfg.FOLLOWER_POLL_MS,
  });
  const read = analyticsCollections(documents);
  const readModel = new StoreFollower(
    'analytics-read-model',
    store,
    documentCheckpoint(documents, 'analytics-read-model', () => clock.now()),
    analyticsReadModelProjection(read),
    logger,
    { types: readModelEventTypes, pollIntervalMs: cfg.FOLLOWER_POLL_MS },
  );
  // One instance of a deployment runs the processor: its output is the same wherever it runs, and
  // running it in every instance only multiplied the work. Another takes over within the lease's
  // TTL when that one stops; the others answer analyticsStatus from its last checkpoint.
  const processorLease = new LeasedRunner(new Lease(documents, PROCESSOR_LEASE, leaseOwnerId(), LEASE_TTL_MS, clock), processor, {
    renewEveryMs: LEASE_RENEW_MS,
    logger,
  });
  const stats = async () => (processorLease.isActive ? processor.stats() : ((await processor.savedStats()) ?? processor.stats()));
  const deps: AnalyticsDeps = { tracker: new ActivityTracker(store, clock, { keys: new IdempotencyKeys(documents, clock) }), read, late: lateEvents(documents), rules, stats };
  // Replays are requested here and run by the workers (the `replays` documents hand them over).
  const replays = new ReplayService(documents, store, clock);
  // The relay runs in the workers; its parked list is read and worked here.
  const parked = new ParkedEvents({ store, bus: backends.bus, documents, clock, logger });
  const schema = await buildFederatedSchema({
    resolvers: [EventContractResolver, EventMonitorResolver, ParkedEventsResolver, DeadLettersResolver, ActivityResolver, MemberAnalyticsResolver, PatternResolver, PatternDetectedResolver, EventFlowResolver, ReplayResolver, ReplayProgressResolver],
    orphanedTypes: [AnalyticsMember],
    pubSub: topicsNotSupported,
    container: resolverContainer([
      new EventMonitorResolver(backends, cfg.QUEUE_PREFIX),
      new ParkedEventsResolver(parked),
      new DeadLettersResolver(new DeadLetters({ bus: backends.bus, store, queuePrefix: cfg.QUEUE_PREFIX })),
      new ActivityResolver(deps),
      new MemberAnalyticsResolver(deps),
      new PatternResolver(deps),
      new ReplayResolver(replays),
      new ReplayProgressResolver(replays),
    ]),
    referenceResolvers: {
      Member: { __resolveReference: (reference: { id: string }) => Object.assign(new AnalyticsMember(), { id: reference.id }) },
    },
  });
  registerReplayProgressSource(schema, replays);
  let offAppend: (() => void) | null = null;
  return {
    name: 'analytics',
    schema,
    processor,
    processorLease,
    readModel,
    start: async () => {
      offAppend = backends.onAppend((appended) => {
        processor.wake(appended);
        readModel.wake(appended);
      });
      await processorLease.start();
      await readModel.start();
    },
    close: async () => {
      offAppend?.();
      await processorLease.stop();
      await readModel.stop();
    },
  };
}
