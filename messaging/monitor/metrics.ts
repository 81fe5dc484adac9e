// Prometheus metrics of the event backbone (prom-client): what this process published, consumed,
// failed and dead-lettered, per event type and per queue. Served at /metrics by every process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export const eventsPublished = new Counter({
  name: 'membership_events_published_total',
  help: 'Events published to the bus by this process, by event type.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

export const eventsConsumed = new Counter({
  name: 'membership_events_consumed_total',
  help: 'Deliveries handled by this process, by queue, event type and outcome (ack, retry, dead-letter).',
  labelNames: ['queue', 'type', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const publishFailures = new Counter({
  name: 'membership_publish_failures_total',
  help: 'Publish calls that failed (the outbox relay retries them).',
  registers: [metricsRegistry],
});

export const consumerLag = new Gauge({
  name: 'membership_consumer_lag_events',
  help: 'Events in the store that a consumer or follower has not processed yet (head minus checkpoint).',
  labelNames: ['consumer'] as const,
  registers: [metricsRegistry],
});

export const deadLetterDepth = new Gauge({
  name: 'membership_dead_letter_depth',
  help: 'Messages waiting in a queue\'s dead-letter queue.',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
});

/** Totals of this process's counters, for the eventMonitor query. */
export async function counterTotals(): Promise<{
  published: Map<string, number>;
  consumed: Map<string, { ack: number; retry: number; deadLetter: number }>;
  consumedByQueue: Map<string, { ack: number; retry: number; deadLetter: number }>;
}> {
  const published = new Map<string, number>();
  for (const v of (await eventsPublished.get()).values) published.set(String(v.labels.type), v.value);
  const consumed = new Map<string, { ack: number; retry: number; deadLetter: number }>();
  const consumedByQueue = new Map<string, { ack: number; retry: number; deadLetter: number }>();
  for (const v of (await eventsConsumed.get()).values) {
    const outcome = String(v.labels.outcome);
    for (const [map, key] of [
      [consumed, String(v.labels.type)],
      [consumedByQueue, String(v.labels.queue)],
    ] as const) {
      const row = map.get(key) ?? { ack: 0, retry: 0, deadLetter: 0 };
      if (outcome === 'ack') row.ack += v.value;
      else if (outcome === 'retry') row.retry += v.value;
      else row.deadLetter += v.value;
      map.set(key, row);
    }
  }
  return { published, consumed, consumedByQueue };
}
