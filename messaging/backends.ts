// Builds the process's backends from the configuration: the event store (MongoDB or the embedded
// SQLite file), the bus (RabbitMQ or in-process, always instrumented) and the document store for
// read models and bookkeeping. One instance per process, shared by every subgraph it runs; on
// MongoDB, one MongoClient (one pool) serves the event store and the document store alike.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../platform/config';
import { systemClock, type Clock } from '../platform/clock';
import type { BackendHealth } from '../platform/health';
import { loggerFor } from '../platform/logger';
import { MongoConnection } from '../platform/mongodb';
import type { EventBus } from './bus/event-bus';
import { createEventBus, eventBusOptionsFor } from './bus/create-event-bus';
import { RabbitMqAppendAnnouncements } from './bus/rabbitmq-append-announcements';
import { RabbitMqEventBus } from './bus/rabbitmq-bus';
import { metricsObserver, registerBacklogGauges } from './monitor/metrics';
import { eventMonitorSnapshot } from './monitor/event-monitor';
import { TrafficRecorder, bothObservers } from './monitor/traffic-stats';
import type { EventStore } from './store/event-store';
import { createEventStore } from './store/create-event-store';
import { NotifyingEventStore, type AppendListener } from './store/notifying-event-store';
import { TracingEventStore } from './store/tracing-event-store';
import type { DocumentStore } from './state/document-store';
import { createDocumentStore } from './state/create-document-store';

export interface Backends {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly documents: DocumentStore;
  readonly clock: Clock;
  /** Run `listener` after every append made through this process's store (wakes followers). */
  /** Called after each local append with its envelopes (followers wake only for their types). */
  onAppend(listener: AppendListener): () => void;
  readonly description: { readonly eventStore: string; readonly eventBus: string };
  /** The state of the backends this process needs (MongoDB, the bus), for /ready; cheap to call often. */
  health(): Promise<readonly BackendHealth[]>;
  /** On RabbitMQ: how this process tells the others sharing the store of its appends (else null). */
  readonly announcements: RabbitMqAppendAnnouncements | null;
  close(): Promise<void>;
}

export type BackendsConfig = Pick<Config, 'MONGODB_URI' | 'MONGODB_WRITE_CONCERN' | 'RABBITMQ_URL' | 'DATA_DIR'> &
  Partial<Pick<Config, 'RABBITMQ_EXCHANGE' | 'MONGODB_TIMEOUT_MS' | 'RABBITMQ_QUEUE_TYPE' | 'RABBITMQ_HOSTS'>>;

export interface BackendsOptions {
  /**
   * Take part in append announcements (default true). A process that runs no follower of the store
   * (a tool or a benchmark reading it) passes false: the others then need not announce to it.
   */
  readonly announcements?: boolean;
  /**
   * Run the embedded stores' checkpointer threads (default true). A process that only reads the
   * store beside the product's own processes (a tool, a benchmark) passes false and leaves the
   * checkpoints to them: each checkpointer copies and syncs the same pages again, and its WAL
   * restarts hold the write lock that the product's commits wait for.
   */
  readonly checkpoints?: boolean;
}

export async function createBackends(cfg: BackendsConfig, clock: Clock = systemClock, options: BackendsOptions = {}): Promise<Backends> {
  const logger = loggerFor('backends');
  let rawStore: EventStore;
  let documents: DocumentStore;
  let storeDescription: string;
  let mongo: MongoConnection | null = null;
  if (cfg.MONGODB_URI) {
    mongo = new MongoConnection({
      uri: cfg.MONGODB_URI,
      ...(cfg.MONGODB_TIMEOUT_MS ? { timeoutMs: cfg.MONGODB_TIMEOUT_MS } : {}),
      clock,
      logger: loggerFor('mongodb'),
    });
    try {
      rawStore = await createEventStore({ kind: 'mongo', connection: mongo, writeConcern: cfg.MONGODB_WRITE_CONCERN }, clock);
    } catch (error) {
      await mongo.close().catch(() => undefined);
      throw error;
    }
    documents = createDocumentStore({ kind: 'mongo', connection: mongo });
    storeDescription = `MongoDB (${mongo.target.display})`;
  } else {
    fs.mkdirSync(cfg.DATA_DIR, { recursive: true });
    const checkpoints = options.checkpoints ?? true;
    rawStore = await createEventStore({ kind: 'sqlite', file: path.join(cfg.DATA_DIR, 'events.db'), checkpoints }, clock);
    documents = createDocumentStore({ kind: 'sqlite', file: path.join(cfg.DATA_DIR, 'state.db'), checkpoints });
    storeDescription = `embedded, file-backed (${cfg.DATA_DIR})`;
  }
  // The monitor's traffic per type is the deployment's: each process adds its counts to shared documents.
  const traffic = new TrafficRecorder(documents, clock, loggerFor('event-traffic'));
  const observer = bothObservers(metricsObserver, traffic.observer);
  const rabbit = { exchange: cfg.RABBITMQ_EXCHANGE, queueType: cfg.RABBITMQ_QUEUE_TYPE, hosts: cfg.RABBITMQ_HOSTS };
  let bus: EventBus;
  try {
    bus = await createEventBus(eventBusOptionsFor(cfg.RABBITMQ_URL, rabbit), { clock, logger: loggerFor('bus'), observer });
  } catch (error) {
    await Promise.allSettled([rawStore.close(), documents.close()]);
    await mongo?.close().catch(() => undefined);
    throw error;
  }
  const store = new NotifyingEventStore(new TracingEventStore(rawStore, mongo ? 'mongodb' : 'sqlite'));
  // With RabbitMQ, other processes share the store: each tells the others what it appended, so
  // their followers need not wait for their next poll (best effort; the poll stays the guarantee).
  let announcements: RabbitMqAppendAnnouncements | null = null;
  if (bus instanceof RabbitMqEventBus && options.announcements !== false) {
    announcements = await RabbitMqAppendAnnouncements.start({ connection: bus.connection, exchange: bus.exchange, logger: loggerFor('append-announcements') });
    const announcer = announcements;
    // Only this process's own appends: announcing what others announced would echo without end.
    store.onAppend((appended) => announcer.announce(appended.map((e) => e.type)), { localOnly: true });
    announcer.onAnnounced((types) => store.appendedElsewhere(types));
  }
  measureBacklog({ store, bus, documents, clock });
  logger.info({ eventStore: storeDescription, eventBus: cfg.RABBITMQ_URL ? 'rabbitmq' : 'in-process' }, 'backends ready');
  return {
    store,
    bus,
    documents,
    clock,
    onAppend: (listener) => store.onAppend(listener),
    announcements,
    description: {
      eventStore: storeDescription,
      eventBus: cfg.RABBITMQ_URL
        ? `RabbitMQ (${cfg.RABBITMQ_HOSTS?.join(',') ?? new URL(cfg.RABBITMQ_URL).host}, ${cfg.RABBITMQ_QUEUE_TYPE ?? 'quorum'} queues)`
        : 'in-process',
    },
    health: () => Promise.all([...(mongo ? [mongo.health()] : []), bus.health()]),
    close: async () => {
      await announcements?.close();
      await bus.close();
      await traffic.close();
      await store.close();
      await documents.close();
      // The stores leave the shared client open: it goes last, once neither needs it.
      await mongo?.close();
    },
  };
}

/** Fully in-memory backends, for fast tests and offline composition. */
export async function createMemoryBackends(clock: Clock = systemClock): Promise<Backends> {
  const store = new NotifyingEventStore(new TracingEventStore(await createEventStore({ kind: 'memory' }, clock), 'memory'));
  const documents = createDocumentStore({ kind: 'memory' });
  const traffic = new TrafficRecorder(documents, clock, loggerFor('event-traffic'));
  const bus = await createEventBus({ kind: 'in-process' }, { clock, observer: bothObservers(metricsObserver, traffic.observer) });
  measureBacklog({ store, bus, documents, clock });
  return {
    store,
    bus,
    documents,
    clock,
    onAppend: (listener) => store.onAppend(listener),
    announcements: null,
    description: { eventStore: 'in-memory', eventBus: 'in-process' },
    health: async () => [await bus.health()],
    close: async () => {
      await bus.close();
      await traffic.close();
      await store.close();
      await documents.close();
    },
  };
}

/** Feed the process's lag and dead-letter gauges from these backends (the last ones created win). */
function measureBacklog(backends: Pick<Backends, 'store' | 'bus' | 'documents' | 'clock'>): void {
  registerBacklogGauges(async () => {
    const snapshot = await eventMonitorSnapshot(backends);
    return {
      lags: new Map(snapshot.consumers.map((c) => [c.name, c.lag])),
      deadLetters: new Map(snapshot.consumers.filter((c) => c.deadLetters !== null).map((c) => [c.name, c.deadLetters as number])),
    };
  });
}
