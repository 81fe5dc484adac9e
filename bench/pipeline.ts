// Benchmark: the whole backbone end to end — append to the embedded store (commands with the
// expected-version check, `--writers` of them in flight at once, as concurrent requests would
// issue them) -> outbox relay -> RabbitMQ with publisher confirms -> a consumer.
// Two runs: flat out (events/s, goal >= 5,000) and paced at 1,000 events/s (latency, goal p99 <= 50 ms).
//   node dist/bench/pipeline.js [--events 20000] [--writers 100] [--paced-events 10000] [--rate 1000] [--queue-type quorum|classic]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { ack } from '../messaging/bus/event-bus';
import { createEventBus } from '../messaging/bus/create-event-bus';
import { createOutboxRelay } from '../messaging/outbox/outbox-relay';
import { memoryCheckpoint } from '../messaging/store/checkpoints';
import { createEventStore } from '../messaging/store/create-event-store';
import { NotifyingEventStore } from '../messaging/store/notifying-event-store';
import { loggerFor } from '../platform/logger';
import { arg, choiceArg, machine, numberArg, percentile, runAsMain } from './report';
import { QUEUE_TYPES, type QueueType } from '../messaging/bus/rabbitmq-bus';
import { onFreshVhost } from './broker';

export interface PipelineOptions {
  readonly url: string;
  readonly events: number;
  /** Commands in flight at once in the flat-out run (1: one after the other). */
  readonly writers: number;
  readonly pacedEvents: number;
  readonly rate: number;
  /** The consumer's queue type (RABBITMQ_QUEUE_TYPE). Default quorum, as deployed. */
  readonly queueType?: QueueType;
}

export async function runPipeline(options: PipelineOptions) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
  const store = new NotifyingEventStore(await createEventStore({ kind: 'sqlite', file: path.join(dir, 'events.db') }));
  const bus = await createEventBus({ kind: 'rabbitmq', url: options.url, queueType: options.queueType ?? 'quorum' });
  const queue = `bench.pipeline.${randomUUID().slice(0, 8)}`;
  const appendedAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let onReceived: (() => void) | null = null;
  const consumer = await bus.consume({ queue, bindings: ['member.created'], prefetch: 500, exclusive: true }, async (event) => {
    const t0 = appendedAt.get(event.id);
    if (t0 !== undefined) {
      latencies.push(performance.now() - t0);
      appendedAt.delete(event.id);
      received++;
      onReceived?.();
    }
    return ack;
  });
  const relay = createOutboxRelay(store, bus, memoryCheckpoint(), loggerFor('bench'), { batchSize: 500 });
  store.onAppend(() => relay.wake());
  await relay.start();

  let n = 0;
  const appendOne = async () => {
    const memberId = `p${n++}-${randomUUID().slice(0, 6)}`;
    const id = randomUUID();
    appendedAt.set(id, performance.now());
    await store.append(
      `member-${memberId}`,
      [{ id, type: 'member.created', payload: { memberId, email: `${memberId}@example.org`, firstName: 'Bench', lastName: 'Mark', tier: 'basic' } }],
      { expectedVersion: 'no_stream', context: { correlationId: 'bench' } },
    );
  };
  const allReceived = (count: number) =>
    new Promise<void>((resolve) => {
      onReceived = () => {
        if (received >= count) resolve();
      };
      onReceived();
    });

  // Flat out.
  const started = performance.now();
  let issued = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, options.writers) }, async () => {
      while (issued < options.events) {
        issued++;
        await appendOne();
      }
    }),
  );
  const appendDone = performance.now();
  await allReceived(options.events);
  const flatDuration = performance.now() - started;
  const flatLatencies = latencies.splice(0).sort((a, b) => a - b);

  // Paced: one append every 1000/rate ms, on schedule (not after the previous delivery).
  received = 0;
  const interval = 1000 / options.rate;
  const pacedStart = performance.now();
  for (let i = 0; i < options.pacedEvents; i++) {
    const due = pacedStart + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    await appendOne();
  }
  await allReceived(options.pacedEvents);
  const paced = latencies.splice(0).sort((a, b) => a - b);

  await relay.stop();
  await consumer.close();
  await bus.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const eventsPerSecond = Math.round((options.events / flatDuration) * 1000);
  const pacedP99 = percentile(paced, 99);
  return {
    benchmark: 'pipeline' as const,
    date: new Date().toISOString(),
    machine: machine(),
    settings: { events: options.events, writers: options.writers, pacedEvents: options.pacedEvents, rate: options.rate, queueType: options.queueType ?? 'quorum' },
    flatOut: {
      eventsPerSecond,
      appendEventsPerSecond: Math.round((options.events / (appendDone - started)) * 1000),
      latencyMs: { p50: percentile(flatLatencies, 50), p99: percentile(flatLatencies, 99) },
    },
    paced: { rate: options.rate, latencyMs: { p50: percentile(paced, 50), p99: pacedP99, max: percentile(paced, 100) } },
    goals: {
      endToEndEventsPerSecond: { goal: 5000, met: eventsPerSecond >= 5000 },
      p99AtPacedRateMs: { goal: 50, met: pacedP99 <= 50 },
    },
  };
}

if (require.main === module) {
  runAsMain(() =>
    onFreshVhost('pipeline', (url) => runPipeline({
      url,
      events: numberArg('events', 20000),
      writers: numberArg('writers', 100),
      pacedEvents: numberArg('paced-events', 10000, { min: 0 }),
      rate: numberArg('rate', 1000),
      queueType: choiceArg('queue-type', QUEUE_TYPES, 'quorum'),
    })),
  );
}
