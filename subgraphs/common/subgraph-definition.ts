// One subgraph described in one place (its folder's subgraph.ts): its module, its subscription
// event types, its background work and its replay projections. Generic code (start, workers,
// composition, replay) reads these descriptions; it never imports a subgraph.
import type { Backends } from '../../messaging/backends';
import type { ConsumerDefinition } from '../../messaging/consumers/consumer-definition';
import type { EventType } from '../../messaging/events/catalog';
import type { RebuildableProjection } from '../../messaging/replay/projection-versions';
import type { Config, SubgraphName } from '../../platform/config';
import type { SubgraphModule } from './subgraph-module';

/** The part of the configuration subgraph modules and workers read. */
export type SubgraphConfig = Pick<
  Config,
  | 'SNAPSHOT_EVERY'
  | 'FOLLOWER_POLL_MS'
  | 'SAGA_STEP_TIMEOUT_MS'
  | 'SAGA_TIMEOUT_SCAN_MS'
  | 'ANALYTICS_ALLOWED_LATENESS_MS'
  | 'ANALYTICS_TICK_MS'
  | 'CERTIFICATION_EXPIRY_INTERVAL_MS'
  | 'QUEUE_PREFIX'
  | 'SMTP_URL'
  | 'MAIL_FROM'
>;

/** A subgraph's background work, started by the worker process (and `npm start`). */
export interface RunningSubgraphWorkers {
  /** Its bus consumers, named without the queue prefix; the workers start them and replay to them. */
  readonly consumers: readonly ConsumerDefinition[];
  close(): Promise<void>;
}

export interface SubgraphDefinition<
  Name extends SubgraphName = SubgraphName,
  Module extends SubgraphModule = SubgraphModule,
  Workers extends RunningSubgraphWorkers = RunningSubgraphWorkers,
  Overrides = never,
> {
  readonly name: Name;
  readonly createModule: (backends: Backends, cfg: SubgraphConfig) => Promise<Module>;
  /** The event types its subscriptions need: its live queue binds to exactly these. */
  readonly subscriptionEventTypes: readonly EventType[];
  /** Types bound only while a subscription asks for one beyond the above (a second live queue). */
  readonly onDemandSubscriptionEventTypes?: readonly EventType[];
  /** Its background work; `overrides` are for tests (a mailer, a card processor, ...). */
  readonly startWorkers: (backends: Backends, cfg: SubgraphConfig, overrides?: Overrides) => Promise<Workers>;
  /** Its projections a replay can rebuild (by name, e.g. member-read-model). */
  readonly replayProjections: readonly RebuildableProjection[];
}

/** Any subgraph's description, as generic code (start, workers, composition) takes it. */
export type AnySubgraphDefinition = SubgraphDefinition<SubgraphName, SubgraphModule, RunningSubgraphWorkers, never>;

/** A subgraph with no background work of its own. */
export const noWorkers = async (): Promise<RunningSubgraphWorkers> => ({ consumers: [], close: async () => undefined });

export function defineSubgraph<const Name extends SubgraphName, Module extends SubgraphModule, Workers extends RunningSubgraphWorkers, Overrides = never>(
  definition: SubgraphDefinition<Name, Module, Workers, Overrides>,
): SubgraphDefinition<Name, Module, Workers, Overrides> {
  return definition;
}
