// The certification slice's background work for the worker process: the expiry scheduler and the
// due index it scans. It runs here, not in the subgraph, so scaling subgraphs does not multiply
// schedulers (several are safe, one is enough) and expiry goes on while no subgraph is up.
import type { Backends } from '../../messaging/backends';
import { documentCheckpoint } from '../../messaging/store/checkpoints';
import { StoreFollower } from '../../messaging/store/store-follower';
import type { Config } from '../../platform/config';
import { loggerFor } from '../../platform/logger';
import type { RunningSubgraphWorkers } from '../common/subgraph-definition';
import { certificationEventTypes } from './domain/certification';
import { CertificationService } from './domain/certification-service';
import { dueIndexCollection, dueIndexProjection } from './scheduler/expiry-due-index';
import { CertificationExpiryScheduler } from './scheduler/expiry-scheduler';

export interface CertificationWorkerOptions {
  readonly snapshotEvery: number;
  readonly pollIntervalMs: number;
  /** Time between scheduler ticks. */
  readonly expiryIntervalMs: number;
}

/** What the worker process's configuration gives the certification workers. */
export type CertificationWorkersConfig = Pick<Config, 'SNAPSHOT_EVERY' | 'FOLLOWER_POLL_MS' | 'CERTIFICATION_EXPIRY_INTERVAL_MS'>;

export interface CertificationWorkers extends RunningSubgraphWorkers {
  readonly scheduler: CertificationExpiryScheduler;
  readonly dueIndex: StoreFollower;
  /** Follow the store into the due index and tick every `expiryIntervalMs`. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The due index's follower name; its checkpoint is durable, so a restart resumes where it stopped. */
export const DUE_INDEX_FOLLOWER = 'certification-expiry-due-index';

export function createCertificationWorkers(backends: Backends, options: CertificationWorkerOptions): CertificationWorkers {
  const { store, documents, clock } = backends;
  const logger = loggerFor('certification-expiry');
  const due = dueIndexCollection(documents);
  const dueIndex = new StoreFollower(
    DUE_INDEX_FOLLOWER,
    store,
    documentCheckpoint(documents, DUE_INDEX_FOLLOWER, () => clock.now()),
    dueIndexProjection(due),
    logger,
    { types: certificationEventTypes, pollIntervalMs: options.pollIntervalMs },
  );
  const scheduler = new CertificationExpiryScheduler({
    service: new CertificationService(store, documents, clock, options.snapshotEvery),
    due,
    clock,
    logger,
    intervalMs: options.expiryIntervalMs,
  });
  let offAppend: (() => void) | null = null;
  return {
    scheduler,
    dueIndex,
    consumers: [],
    start: async () => {
      offAppend = backends.onAppend((appended) => dueIndex.wake(appended));
      await dueIndex.start();
      scheduler.start();
    },
    close: async () => {
      offAppend?.();
      await scheduler.stop();
      await dueIndex.stop();
    },
  };
}

/** Create and start them from the configuration (the worker process, `npm start`, startProduct). */
export async function startCertificationWorkers(backends: Backends, cfg: CertificationWorkersConfig): Promise<CertificationWorkers> {
  const workers = createCertificationWorkers(backends, {
    snapshotEvery: cfg.SNAPSHOT_EVERY,
    pollIntervalMs: cfg.FOLLOWER_POLL_MS,
    expiryIntervalMs: cfg.CERTIFICATION_EXPIRY_INTERVAL_MS,
  });
  await workers.start();
  return workers;
}
