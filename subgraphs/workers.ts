// The background work of the product, run by the worker process (and by `npm start`): the outbox
// relay that publishes stored events, replays, and each registered subgraph's workers (started
// through its description, the same way for every subgraph) and bus consumers. Any number of worker
// processes may run: consumers compete on their queues, and the relay runs in the one process that
// holds its lease (another takes over within RELAY_LEASE_TTL_MS when that one dies).
import type { Backends } from '../messaging/backends';
import type { Consumer } from '../messaging/bus/event-bus';
import { startConsumer } from '../messaging/consumers/run-consumer';
import { createOutboxRelay } from '../messaging/outbox/outbox-relay';
import { ParkedEvents } from '../messaging/outbox/parked-events';
import { documentCheckpoint } from '../messaging/store/checkpoints';
import type { StoreFollower } from '../messaging/store/store-follower';
import { Lease, LeasedRunner, LEASE_RENEW_MS, LEASE_TTL_MS, leaseOwnerId } from '../messaging/state/lease';
import { MarkerPruner } from '../messaging/consumers/marker-pruner';
import { ReplayRunner } from '../messaging/replay/replay-runner';
import { consumerTarget, projectionTarget } from '../messaging/replay/replay-targets';
import type { Config, SubgraphName } from '../platform/config';
import { loggerFor } from '../platform/logger';
import type { AnySubgraphDefinition, RunningSubgraphWorkers, SubgraphConfig, SubgraphDefinition } from './common/subgraph-definition';
import type { SubgraphModule } from './common/subgraph-module';
import { subgraphList, type Subgraphs } from './index';

export type WorkersConfig = SubgraphConfig & Pick<Config, 'PROCESSED_MARKER_RETENTION_HOURS'>;

type WorkersOf<D extends AnySubgraphDefinition> = Awaited<ReturnType<D['startWorkers']>>;

/** Test doubles for a subgraph's workers, by subgraph (`{ member: { mailer }, payment: { retry } }`). */
export type WorkerOverrides = { readonly [N in SubgraphName]?: Parameters<Subgraphs[N]['startWorkers']>[2] };

/** The relay's lease: renewed every 5 s, taken over 15 s after its holder stopped renewing. */
export const RELAY_LEASE_TTL_MS = LEASE_TTL_MS;
const MARKER_PRUNE_INTERVAL_MS = 10 * 60_000;

/** What runs: the relay, the consumers, the replays, and each subgraph's workers under its name. */
export type RunningWorkers = RunningSharedWorkers & { readonly [N in SubgraphName]: WorkersOf<Subgraphs[N]> };

interface RunningSharedWorkers {
  readonly relay: StoreFollower;
  /** Where the relay parks the events the bus can never publish. */
  readonly parked: ParkedEvents;
  /** Whether this process holds the relay's lease (the relay runs here). */
  readonly relayActive: () => boolean;
  readonly consumers: readonly Consumer[];
  /** Runs the replays admins request through the analytics subgraph (claimed from `replays`). */
  readonly replay: ReplayRunner;
  /** Deletes consumers' processed markers past PROCESSED_MARKER_RETENTION_HOURS. */
  readonly markerPruner: MarkerPruner;
  close(): Promise<void>;
}

export async function startWorkers(backends: Backends, cfg: WorkersConfig, overrides: WorkerOverrides = {}): Promise<RunningWorkers> {
  const { store, bus, documents, clock } = backends;
  // Each subgraph's own work first (payment seeds stock, certification follows its due index).
  const started: RunningSubgraphWorkers[] = [];
  for (const definition of subgraphList as readonly SubgraphDefinition<SubgraphName, SubgraphModule, RunningSubgraphWorkers, unknown>[]) {
    started.push(await definition.startWorkers(backends, cfg, overrides[definition.name]));
  }
  const bySubgraph = Object.fromEntries(subgraphList.map((d, i) => [d.name, started[i]])) as { readonly [N in SubgraphName]: WorkersOf<Subgraphs[N]> };
  const definitions = started.flatMap((w) => w.consumers);
  const consumers: Consumer[] = [];
  for (const definition of definitions) {
    const named = { ...definition, name: `${cfg.QUEUE_PREFIX}${definition.name}`, handle: definition.handle.bind(definition) };
    consumers.push(await startConsumer(bus, documents, named, { clock }));
  }
  // Consumers' queues exist before the relay publishes anything, so nothing is unroutable.
  // Events the bus can never publish are parked there (admins republish or skip them), not retried forever.
  const parked = new ParkedEvents({ store, bus, documents, clock, logger: loggerFor('outbox-relay') });
  const relay = createOutboxRelay(store, bus, documentCheckpoint(documents, 'outbox-relay', () => clock.now()), loggerFor('outbox-relay'), {
    pollIntervalMs: cfg.FOLLOWER_POLL_MS,
    parking: parked,
  });
  const offAppend = backends.onAppend(() => relay.wake());
  const relayLease = new LeasedRunner(
    new Lease(documents, 'outbox-relay', leaseOwnerId(), RELAY_LEASE_TTL_MS, clock),
    relay,
    { renewEveryMs: LEASE_RENEW_MS, logger: loggerFor('outbox-relay') },
  );
  await relayLease.start();
  const replay = new ReplayRunner({ store, bus, documents, clock, logger: loggerFor('replay') }, [
    // Every consumer as the workers run it (QUEUE_PREFIX + name), and every subgraph's rebuildable projections.
    ...definitions.map((c) => consumerTarget(c, `${cfg.QUEUE_PREFIX}${c.name}`)),
    ...subgraphList.flatMap((d) => d.replayProjections.map(projectionTarget)),
  ], {
    queuePrefix: cfg.QUEUE_PREFIX,
    pollIntervalMs: cfg.FOLLOWER_POLL_MS,
  });
  await replay.start();
  const pruner = new MarkerPruner(documents, clock, loggerFor('marker-pruner'), {
    retentionMs: cfg.PROCESSED_MARKER_RETENTION_HOURS * 3_600_000,
    intervalMs: MARKER_PRUNE_INTERVAL_MS,
  });
  pruner.start();
  return {
    ...bySubgraph,
    relay,
    parked,
    relayActive: () => relayLease.isActive,
    consumers,
    replay,
    markerPruner: pruner,
    close: async () => {
      await pruner.stop();
      await replay.stop();
      offAppend();
      await relayLease.stop();
      await Promise.all(consumers.map((c) => c.close()));
      // In reverse start order; the member workers' mailer closes once no consumer sends with it.
      for (const workers of [...started].reverse()) await workers.close();
    },
  };
}
