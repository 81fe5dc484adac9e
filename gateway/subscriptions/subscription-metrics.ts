// Prometheus metrics of the gateway's subscriptions, the same for every transport and labelled by
// it: open connections and client subscriptions (computed when scraped from the live engines),
// upstream subscriptions on subgraphs, and overflows.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../messaging/monitor/metrics';

export const TRANSPORTS = ['graphql-ws', 'sse', 'multipart'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** What an engine reports when scraped. */
export interface SubscriptionCounts {
  connections(transport: TransportName): number;
  subscriptions(transport: TransportName): number;
  upstreams(): number;
}

const live = new Set<SubscriptionCounts>();

/** Report an engine's counts at /metrics until the returned function is called. */
export function reportSubscriptionCounts(counts: SubscriptionCounts): () => void {
  live.add(counts);
  return () => live.delete(counts);
}

new Gauge({
  name: 'membership_gateway_subscription_connections',
  help: 'Subscription connections open at the gateway, by transport (graphql-ws, sse, multipart).',
  labelNames: ['transport'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const transport of TRANSPORTS) this.set({ transport }, [...live].reduce((n, c) => n + c.connections(transport), 0));
  },
});

new Gauge({
  name: 'membership_gateway_subscriptions',
  help: 'Client subscriptions active at the gateway, by transport.',
  labelNames: ['transport'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const transport of TRANSPORTS) this.set({ transport }, [...live].reduce((n, c) => n + c.subscriptions(transport), 0));
  },
});

new Gauge({
  name: 'membership_gateway_upstream_subscriptions',
  help: 'Subscriptions the gateway holds open on subgraphs (one per group of identical client subscriptions, whatever their transports, and one per resume).',
  registers: [metricsRegistry],
  collect() {
    this.set([...live].reduce((n, c) => n + c.upstreams(), 0));
  },
});

export const subscriptionOverflows = new Counter({
  name: 'membership_gateway_subscription_overflows_total',
  help: 'Client subscriptions ended with SUBSCRIPTION_OVERFLOW (a client fell behind by more than SUBSCRIPTION_BUFFER_SIZE events).',
  registers: [metricsRegistry],
});
