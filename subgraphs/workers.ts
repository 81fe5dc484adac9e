// The background work of the product, run by the worker process (and by `npm start`): the outbox
// relay that publishes stored events, and every subgraph's bus consumers. Any number of worker
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
import type { Config } from '../platform/config';
import { loggerFor } from '../platform/logger';
import { createMailer, type Mailer } from './member/consumers/mailer';
import { memberConsumers } from './member/workers';
import { startCertificationWorkers, type CertificationWorkers, type CertificationWorkersConfig } from './certification/workers';
import { paymentWorkers, type PaymentWorkers, type PaymentWorkersOverrides } from './payment/workers';
import { ReplayRunner } from '../messaging/replay/replay-runner';
import { replayTargets } from './analytics/replay/replay-targets';

export type WorkersConfig = Pick<
  Config,
  | 'FOLLOWER_POLL_MS'
  | 'SMTP_URL'
  | 'MAIL_FROM'
  | 'QUEUE_PREFIX'
  | 'SNAPSHOT_EVERY'
  | 'SAGA_STEP_TIMEOUT_MS'
  | 'SAGA_TIMEOUT_SCAN_MS'
  | 'PROCESSED_MARKER_RETENTION_HOURS'
> &
  CertificationWorkersConfig;

/** The relay's lease: renewed every 5 s, taken over 15 s after its holder stopped renewing. */
export const RELAY_LEASE_TTL_MS = LEASE_TTL_MS;
const MARKER_PRUNE_INTERVAL_MS = 10 * 60_000;

export interface RunningWorkers {
  readonly relay: StoreFollower;
  /** Where the relay parks the events the bus can never publish. */
  readonly parked: ParkedEvents;
  /** Whether this process holds the relay's lease (the relay runs here). */
  readonly relayActive: () => boolean;
  readonly consumers: readonly Consumer[];
  /** The certification expiry scheduler and its due index (tests tick it with a ManualClock). */
  readonly certification: CertificationWorkers;
  /** The payment slice's services and saga timeout scan (tests drive the scan with a ManualClock). */
  readonly payment: PaymentWorkers;
  /** Runs the replays admins request through the analytics subgraph (claimed from `replays`). */
  readonly replay: ReplayRunner;
  /** Deletes consumers' processed markers past PROCESSED_MARKER_RETENTION_HOURS. */
  readonly markerPruner: MarkerPruner;
  close(): Promise<void>;
}

export async function startWorkers(
  backends: Backends,
  cfg: WorkersConfig,
  overrides: { mailer?: Mailer; payment?: PaymentWorkersOverrides } = {},
): Promise<RunningWorkers> {
  const { store, bus, documents, clock } = backends;
  const mailer = overrides.mailer ?? createMailer(cfg.SMTP_URL, cfg.MAIL_FROM);
  const consumers: Consumer[] = [];
  const payment = paymentWorkers(backends, cfg, overrides.payment);
  await payment.start();
  const definitions = [...memberConsumers(backends, mailer, cfg.SNAPSHOT_EVERY), ...payment.consumers];
  for (const definition of definitions) {
    const named = { ...definition, name: `${cfg.QUEUE_PREFIX}${definition.name}`, handle: definition.handle.bind(definition) };
    consumers.push(await startConsumer(bus, documents, named, { clock }));
  }
  const certification = await startCertificationWorkers(backends, cfg);
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
  const replay = new ReplayRunner({ store, bus, documents, clock, logger: loggerFor('replay') }, replayTargets(definitions, cfg.QUEUE_PREFIX), {
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
    relay,
    parked,
    relayActive: () => relayLease.isActive,
    consumers,
    certification,
    payment,
    replay,
    markerPruner: pruner,
    close: async () => {
      await pruner.stop();
      await replay.stop();
      offAppend();
      await relayLease.stop();
      await certification.close();
      await payment.close();
      await Promise.all(consumers.map((c) => c.close()));
      await mailer.close();
    },
  };
}
