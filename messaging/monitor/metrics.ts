// Prometheus metrics of the event backbone (prom-client): what this process published, consumed,
// retried and dead-lettered, by event type and queue, fed by the bus adapters' observer hooks; and
// lag and dead-letter depth, computed from the stores at scrape time. Served at /metrics.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BusObserver } from '../bus/event-bus';
import { sendText, type Route } from '../../platform/http-server';

export const metricsRegistry = new Registry();

/** GET /metrics of every process: this registry in Prometheus' text format. */
export const metricsRoute: Route = {
  methods: ['GET'],
  handle: async (_req, res) => sendText(res, 200, metricsRegistry.contentType, await metricsRegistry.metrics()),
};
collectDefaultMetrics({ register: metricsRegistry });

export const eventsPublished = new Counter({
  name: 'membership_events_published_total',
  help: 'Events published to the bus by this process, by event type.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

export const deliveriesSettled = new Counter({
  name: 'membership_deliveries_total',
  help: 'Deliveries settled by this process, by queue, event type and outcome (ack, retry, dead-letter, discarded).',
  labelNames: ['queue', 'type', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** The bus observer that feeds the counters above; every process passes it to its bus. */
export const metricsObserver: BusObserver = {
  published: (event) => eventsPublished.inc({ type: event.type }),
  settled: (s) => deliveriesSettled.inc({ queue: s.queue, type: s.type, outcome: s.outcome }),
};

/** Gauges computed when scraped; `measure` is set once per process by `registerBacklogGauges`. */
let measure: (() => Promise<{ lags: Map<string, number>; deadLetters: Map<string, number> }>) | null = null;

new Gauge({
  name: 'membership_consumer_lag_events',
  help: 'Events in the store a consumer, projection or the outbox relay has not processed yet (head minus its checkpoint).',
  labelNames: ['consumer'] as const,
  registers: [metricsRegistry],
  async collect() {
    if (!measure) return;
    this.reset();
    for (const [consumer, lag] of (await measure()).lags) this.set({ consumer }, lag);
  },
});

new Gauge({
  name: 'membership_dead_letter_depth',
  help: "Messages waiting in a consumer queue's dead-letter queue.",
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  async collect() {
    if (!measure) return;
    this.reset();
    for (const [queue, depth] of (await measure()).deadLetters) this.set({ queue }, depth);
  },
});

export function registerBacklogGauges(source: () => Promise<{ lags: Map<string, number>; deadLetters: Map<string, number> }>): void {
  measure = source;
}
