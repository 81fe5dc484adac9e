// Prometheus metrics of the event backbone (prom-client): what this process published, consumed,
// retried and dead-lettered, by event type and queue, fed by the bus adapters' observer hooks; and
// lag and dead-letter depth, computed from the stores at scrape time. Served at /metrics.
import type http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client';
import type { BusObserver } from '../bus/event-bus';
import { sendText, type Route } from '../../platform/http-server';
import { sampledTraceIds } from '../../platform/tracing';

// Made as an OpenMetrics registry, so that histograms may carry exemplars (prom-client allows them
// only there), then rendered as Prometheus text unless the scraper asks for OpenMetrics.
export const metricsRegistry = new Registry<RegistryContentType>();
metricsRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);

/**
 * How long consumers took to handle a delivery, by queue and outcome. While tracing, each bucket's
 * exemplar is the trace of its latest observation (`trace_id`, `span_id`: the delivery's span), shown
 * to scrapers that ask for OpenMetrics (Prometheus with exemplar storage on).
 */
export const deliveryDuration = new Histogram({
  name: 'membership_delivery_duration_seconds',
  help: 'Time consumers took to handle a delivery, by queue and outcome (ack, retry, dead-letter); exemplars name the trace.',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  enableExemplars: true,
  registers: [metricsRegistry],
});
metricsRegistry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);

/** Record one handled delivery, with the active (delivery) span as the exemplar when it is sampled. */
export function observeDelivery(queue: string, outcome: string, seconds: number): void {
  const ids = sampledTraceIds();
  // prom-client's types take exemplar labels for metric labels; any names are allowed at run time.
  const exemplarLabels = ids ? ({ trace_id: ids.traceId, span_id: ids.spanId } as never) : undefined;
  deliveryDuration.observe({ labels: { queue, outcome }, value: seconds, ...(exemplarLabels ? { exemplarLabels } : {}) });
}

function acceptsOpenMetrics(req: http.IncomingMessage): boolean {
  return String(req.headers.accept ?? '').includes('application/openmetrics-text');
}

// The registry's format is switched for one rendering at a time.
let rendering: Promise<unknown> = Promise.resolve();
function render(openMetrics: boolean): Promise<{ type: string; text: string }> {
  const done = rendering.then(async () => {
    if (!openMetrics) return { type: metricsRegistry.contentType, text: await metricsRegistry.metrics() };
    metricsRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { type: metricsRegistry.contentType, text: await metricsRegistry.metrics() };
    } finally {
      metricsRegistry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    }
  });
  rendering = done.catch(() => undefined);
  return done;
}

/** GET /metrics of every process: this registry in Prometheus' text format, or OpenMetrics (with exemplars) when asked. */
export const metricsRoute: Route = {
  methods: ['GET'],
  handle: async (req, res) => {
    const { type, text } = await render(acceptsOpenMetrics(req));
    sendText(res, 200, type, text);
  },
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

/**
 * Events a live feed received after later ones: the subscriptions that had delivered those skipped
 * them (each is also logged as an error). Should stay 0: the outbox relay sends in store order.
 */
export const liveEventsLate = new Counter({
  name: 'membership_live_events_late_total',
  help: 'Events a live feed of this process received after later ones (the subscriptions past them skipped them), by event type; should stay 0.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

/** Events the outbox relay set aside because the bus can never publish them (the parked list). */
export const outboxEventsParked = new Counter({
  name: 'membership_outbox_events_parked_total',
  help: 'Events the outbox relay of this process parked (the bus refused them for a reason retrying cannot fix), by event type.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

let countParked: (() => Promise<number>) | null = null;

new Gauge({
  name: 'membership_outbox_parked_events',
  help: 'Parked events waiting for an admin to republish or skip them (retryParkedEvent, skipParkedEvent).',
  registers: [metricsRegistry],
  async collect() {
    if (countParked) this.set(await countParked());
  },
});

/** Feed the parked-events gauge (the last registration wins, as for the backlog gauges). */
export function registerParkedGauge(count: () => Promise<number>): void {
  countParked = count;
}
