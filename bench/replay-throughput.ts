// Benchmark: the replay service. (1) 45,231 stored events replayed through RabbitMQ (temporary topic,
// one queue per target) to two consumers, crm and email, through their idempotent handlers (goal:
// <= 5 s, >= 10,000 events/s); (2) an in-process rebuild of the member read model (goal >= 50,000
// events/s). Store and documents in memory, so the figures are the replay path itself.
//   node dist/bench/replay-throughput.js [--events 45231] [--skip-rabbit]
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { createEventBus } from '../messaging/bus/create-event-bus';
import { createEventStore } from '../messaging/store/create-event-store';
import { createDocumentStore } from '../messaging/state/create-document-store';
import type { EventStore } from '../messaging/store/event-store';
import type { EventBus } from '../messaging/bus/event-bus';
import type { AnyNewEvent } from '../messaging/events/envelope';
import { ReplayRunner } from '../messaging/replay/replay-runner';
import { ReplayService } from '../messaging/replay/replay-service';
import { consumerTarget, projectionTarget } from '../messaging/replay/replay-targets';
import type { ReplayDoc } from '../messaging/replay/replay-model';
import type { DocumentStore } from '../messaging/state/document-store';
import { systemClock } from '../platform/clock';
import { loggerFor } from '../platform/logger';
import { crmConsumer } from '../subgraphs/member/consumers/crm.consumer';
import { emailConsumer } from '../subgraphs/member/consumers/email.consumer';
import { memberReadModelRebuild } from '../subgraphs/member/projections/member-read-model';
import { arg, machine, numberArg, runAsMain } from './report';
import { onFreshVhost } from './broker';

export interface ReplayBenchOptions {
  readonly url: string;
  readonly events: number;
  readonly skipRabbit?: boolean;
}

/** `events` member events: per member a member.created and up to four profile updates. */
async function seed(store: EventStore, events: number): Promise<void> {
  let written = 0;
  let member = 0;
  while (written < events) {
    const memberId = `b${member++}`;
    const batch: AnyNewEvent[] = [
      { type: 'member.created', payload: { memberId, email: `${memberId}@example.org`, firstName: 'Bench', lastName: 'Mark', tier: 'basic' } },
    ];
    for (let i = 0; i < 4 && written + batch.length < events; i++) {
      batch.push({ type: 'member.profile.updated', payload: { memberId, changes: { firstName: { before: 'Bench', after: `Bench${i}` } } } });
    }
    await store.append(`member-${memberId}`, batch, { expectedVersion: 'no_stream', context: { correlationId: 'bench' } });
    written += batch.length;
  }
}

async function runOnce(
  deps: { store: EventStore; bus: EventBus; documents: DocumentStore },
  targets: ConstructorParameters<typeof ReplayRunner>[1],
  request: (service: ReplayService) => Promise<ReplayDoc>,
): Promise<{ doc: ReplayDoc; wallMs: number }> {
  const logger = loggerFor('bench-replay');
  const runner = new ReplayRunner({ ...deps, clock: systemClock, logger }, targets, { queuePrefix: `bench.${randomUUID().slice(0, 6)}.`, pollIntervalMs: 5 });
  await runner.start();
  const service = new ReplayService(deps.documents, deps.store, systemClock, () => runner.wake());
  const started = performance.now();
  const requested = await request(service);
  let doc: ReplayDoc | null = null;
  for (;;) {
    doc = await service.get(requested.id);
    if (doc && ['completed', 'cancelled', 'failed'].includes(doc.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Request to finish as recorded (the in-memory marker cleanup that follows may hog the loop).
  const wallMs = doc.finishedAt ? Date.parse(doc.finishedAt) - Date.parse(doc.requestedAt) : performance.now() - started;
  await runner.stop();
  return { doc, wallMs };
}

export async function runReplayThroughput(options: ReplayBenchOptions) {
  const store = await createEventStore({ kind: 'memory' });
  await seed(store, options.events);
  const to = new Date(Date.now() + 1).toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const mailer = { transport: 'mailbox' as const, send: async () => undefined, close: async () => undefined };

  let rabbit: Record<string, unknown> | null = null;
  if (!options.skipRabbit) {
    const bus = await createEventBus({ kind: 'rabbitmq', url: options.url });
    const documents = createDocumentStore({ kind: 'memory' });
    try {
      const targets = [crmConsumer({ documents, store, clock: systemClock }), emailConsumer({ documents, store, clock: systemClock, mailer })].map((c) =>
        consumerTarget(c),
      );
      const { doc, wallMs } = await runOnce({ store, bus, documents }, targets, (service) =>
        service.start({ from: new Date('2000-01-01T00:00:00Z'), to: new Date(to), targets: ['crm', 'email'] }, { id: 'bench', correlationId: 'bench' }),
      );
      const stats = doc.stats;
      const seconds = (stats?.durationMs ?? wallMs) / 1000;
      const eventsPerSecond = Math.round((stats?.events ?? 0) / seconds);
      rabbit = {
        status: doc.status,
        events: stats?.events,
        deliveries: stats?.processed,
        errors: stats?.errors,
        durationMs: stats?.durationMs,
        wallMsFromRequest: Math.round(wallMs),
        eventsPerSecond,
        deliveriesPerSecond: Math.round((stats?.processed ?? 0) / seconds),
        goals: {
          durationMs: { goal: 5000, met: (stats?.durationMs ?? Infinity) <= 5000 },
          eventsPerSecond: { goal: 10_000, met: eventsPerSecond >= 10_000 },
        },
      };
    } finally {
      await bus.close();
    }
  }

  const bus = await createEventBus({ kind: 'in-process' });
  const documents = createDocumentStore({ kind: 'memory' });
  const { doc, wallMs } = await runOnce({ store, bus, documents }, [projectionTarget(memberReadModelRebuild as never)], (service) =>
    service.rebuildProjection('member-read-model', { id: 'bench', correlationId: 'bench' }),
  );
  await bus.close();
  const seconds = (doc.stats?.durationMs ?? wallMs) / 1000;
  const rebuildRate = Math.round((doc.stats?.events ?? 0) / seconds);
  const members = await documents.collection('members_v2').count();
  return {
    benchmark: 'replay-throughput' as const,
    date: new Date().toISOString(),
    machine: machine(),
    settings: { events: options.events },
    rabbitmqReplayTwoTargets: rabbit,
    inProcessProjectionRebuild: {
      status: doc.status,
      events: doc.stats?.events,
      durationMs: doc.stats?.durationMs,
      wallMsFromRequest: Math.round(wallMs),
      eventsPerSecond: rebuildRate,
      membersRebuilt: members,
      goals: { eventsPerSecond: { goal: 50_000, met: rebuildRate >= 50_000 } },
    },
  };
}

if (require.main === module) {
  runAsMain(() =>
    onFreshVhost('replay', (url) => runReplayThroughput({
      url,
      events: numberArg('events', 45231),
      skipRabbit: process.argv.includes('--skip-rabbit'),
    })),
  );
}
