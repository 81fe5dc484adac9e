// Benchmark: events published with confirms through RabbitMQ to one consumer of the bus; reports
// end-to-end events/s and publish->handler latency as JSON. `--rate N` paces publishing at N events/s.
//   node dist/bench/bus-throughput.js [--events 20000] [--batch 500] [--parallel 4] [--prefetch 500] [--rate 1000]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { ack } from '../messaging/bus/event-bus';
import { deadLetterQueueOf, QUEUE_TYPES, retryQueueOf, RabbitMqEventBus, type QueueType } from '../messaging/bus/rabbitmq-bus';
import type { EventEnvelope } from '../messaging/events/envelope';
import { arg, choiceArg, machine, numberArg, percentile, runAsMain } from './report';
import { onFreshVhost } from './broker';

export interface BusThroughputOptions {
  readonly url: string;
  readonly events: number;
  /** Events per publish() call (confirms pipelined inside a call). */
  readonly batch: number;
  /** publish() calls in flight at once. */
  readonly parallel: number;
  readonly prefetch: number;
  /** Target events/s; unset = as fast as confirms allow. */
  readonly rate?: number;
  /** The consumer's queue type (RABBITMQ_QUEUE_TYPE). Default quorum, as deployed. */
  readonly queueType?: QueueType;
}

export interface BusThroughputResult {
  readonly benchmark: 'bus-throughput';
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly settings: Omit<BusThroughputOptions, 'url'>;
  readonly events: number;
  readonly durationMs: number;
  readonly eventsPerSecond: number;
  readonly publishEventsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly goal: { readonly eventsPerSecond: 5000; readonly met: boolean };
}


function makeEvent(i: number, correlationId: string): EventEnvelope<'member.created'> {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    type: 'member.created',
    schemaVersion: 1,
    streamId: `member-b${i}`,
    streamVersion: 1,
    position: i + 1,
    occurredAt: at,
    recordedAt: at,
    correlationId,
    causationId: null,
    actor: { id: 'bench', role: 'system' },
    metadata: { replay: false },
    payload: { memberId: `b${i}`, email: `b${i}@example.org`, firstName: 'Bench', lastName: 'Mark', tier: 'basic' },
  };
}

export async function runBusThroughput(options: BusThroughputOptions): Promise<BusThroughputResult> {
  const bus = await RabbitMqEventBus.connect({ url: options.url, connectionName: 'bench-bus-throughput', queueType: options.queueType ?? 'quorum' });
  const queue = `bench.bus.${randomUUID().slice(0, 8)}`;
  const correlationId = randomUUID();
  const events = Array.from({ length: options.events }, (_, i) => makeEvent(i, correlationId));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  try {
    await bus.consume({ queue, bindings: ['member.created'], prefetch: options.prefetch }, async (event) => {
      const start = sentAt.get(event.id);
      if (start === undefined) return ack; // someone else's event on the shared exchange
      sentAt.delete(event.id);
      latencies.push(performance.now() - start);
      if (latencies.length === options.events) resolveDone();
      return ack;
    });

    const batches: EventEnvelope<'member.created'>[][] = [];
    for (let i = 0; i < events.length; i += options.batch) batches.push(events.slice(i, i + options.batch));
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        const batch = batches[index]!;
        if (options.rate) {
          // Pace: batch `index` may start at index * batch / rate seconds.
          const due = t0 + ((index * options.batch) / options.rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        const now = performance.now();
        for (const event of batch) sentAt.set(event.id, now);
        await bus.publish(batch);
      }
    };
    await Promise.all(Array.from({ length: options.parallel }, worker));
    const published = performance.now();
    await done;
    const finished = performance.now();

    latencies.sort((a, b) => a - b);
    const eventsPerSecond = Math.round(options.events / ((finished - t0) / 1000));
    const { url: _url, ...settings } = options;
    return {
      benchmark: 'bus-throughput',
      date: new Date().toISOString(),
      machine: machine(),
      settings,
      events: options.events,
      durationMs: Math.round(finished - t0),
      eventsPerSecond,
      publishEventsPerSecond: Math.round(options.events / ((published - t0) / 1000)),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      goal: { eventsPerSecond: 5000, met: eventsPerSecond >= 5000 },
    };
  } finally {
    await bus.close();
    const admin = new Connection(options.url);
    admin.on('error', () => undefined);
    for (const name of [queue, retryQueueOf(queue), deadLetterQueueOf(queue)]) {
      await admin.queueDelete({ queue: name }).catch(() => undefined);
    }
    await admin.close();
  }
}

if (require.main === module) {
  runAsMain(() =>
    onFreshVhost('bus', (url) => runBusThroughput({
      url,
      events: numberArg('events', 20_000),
      batch: numberArg('batch', 500),
      parallel: numberArg('parallel', 4),
      prefetch: numberArg('prefetch', 500),
      ...(arg('rate') === undefined ? {} : { rate: numberArg('rate', 0, { min: 1 }) }),
      queueType: choiceArg('queue-type', QUEUE_TYPES, 'quorum'),
    })),
  );
}
