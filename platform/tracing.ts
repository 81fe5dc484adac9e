// Distributed tracing (OpenTelemetry): one place that starts the SDK for a process, from the OTEL_*
// variables of platform/config.ts, and the few helpers the rest of the code uses to make spans and to
// carry W3C trace context (`traceparent`, `tracestate`) across HTTP, WebSocket, events and messages.
//
// Off unless configured: without an exporter nothing is registered, the API's tracer is the no-op
// one, and `tracingEnabled()` is false so callers skip the work of building spans and headers.
import {
  context as otelContext,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span };

/** Attribute names of this product's own (the rest are OpenTelemetry semantic conventions). */
export const attr = {
  correlationId: 'membership.correlation_id',
  eventId: 'membership.event.id',
  eventType: 'membership.event.type',
  eventCount: 'membership.event.count',
  streamId: 'membership.stream.id',
  outcome: 'membership.delivery.outcome',
  attempt: 'membership.delivery.attempt',
  errorCode: 'membership.error.code',
  subscribers: 'membership.subscription.subscribers',
  transport: 'membership.subscription.transport',
} as const;

/** Where an event's trace context is kept in its envelope's metadata (strings, as W3C writes them). */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

export type TraceCarrier = Record<string, unknown>;

let provider: NodeTracerProvider | null = null;
let enabled = false;

/** True once startTracing registered an SDK: callers skip span and header work otherwise. */
export function tracingEnabled(): boolean {
  return enabled;
}

let current: Tracer | null = null;

/** The product's tracer (the no-op one while tracing is off). */
export function tracer(): Tracer {
  return current ?? trace.getTracer('membership-events');
}

export interface TracingHandle {
  /** Export what is buffered (tests, before reading a receiver). */
  forceFlush(): Promise<void>;
  /** Export what is buffered and unregister; tracing is off again afterwards. */
  shutdown(): Promise<void>;
}

const noTracing: TracingHandle = { forceFlush: async () => undefined, shutdown: async () => undefined };

export type TracingConfig = Pick<
  Config,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
>;

export interface StartTracingOptions {
  /** The service name unless OTEL_SERVICE_NAME gives one (`membership-gateway`, ...). */
  readonly serviceName: string;
  /** Span processors instead of the configured exporter (tests: an in-memory exporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** The sampler OTEL_TRACES_SAMPLER (and _ARG) ask for. */
export function samplerFor(cfg: Pick<Config, 'OTEL_TRACES_SAMPLER' | 'OTEL_TRACES_SAMPLER_ARG'>): Sampler {
  const ratio = cfg.OTEL_TRACES_SAMPLER_ARG;
  switch (cfg.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default: {
      const unknown: never = cfg.OTEL_TRACES_SAMPLER;
      throw new Error(`Unknown sampler ${String(unknown)}`);
    }
  }
}

/** Where OTLP spans are posted, from the configuration (null: no OTLP export). */
export function otlpTracesUrl(cfg: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string | null {
  if (cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!cfg.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return `${cfg.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

function processorsFor(cfg: TracingConfig): SpanProcessor[] {
  switch (cfg.OTEL_TRACES_EXPORTER) {
    case 'none':
      return [];
    case 'console':
      return [new SimpleSpanProcessor(new ConsoleSpanExporter())];
    case 'otlp': {
      const url = otlpTracesUrl(cfg);
      if (!url) return [];
      const options = { url, headers: { ...cfg.OTEL_EXPORTER_OTLP_HEADERS } };
      const exporter = cfg.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
      // Batched: spans leave every few seconds in one request, off the request path.
      return [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })];
    }
    default: {
      const unknown: never = cfg.OTEL_TRACES_EXPORTER;
      throw new Error(`Unknown traces exporter ${String(unknown)}`);
    }
  }
}

/**
 * Start tracing for this process, as configured; a no-op (and tracing stays off) when no exporter
 * is configured. Call once, first thing, from the process's entry point.
 */
export function startTracing(cfg: TracingConfig, options: StartTracingOptions): TracingHandle {
  const spanProcessors = options.spanProcessors ? [...options.spanProcessors] : processorsFor(cfg);
  if (spanProcessors.length === 0) return noTracing;
  if (provider) throw new Error('Tracing is already started in this process.');
  const started = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: cfg.OTEL_SERVICE_NAME ?? options.serviceName,
      [ATTR_SERVICE_VERSION]: '0.1.0',
    }),
    sampler: samplerFor(cfg),
    spanProcessors,
  });
  // Registers the AsyncLocalStorage context manager (the active span follows awaits) and W3C
  // trace context + baggage as the propagator.
  started.register({ propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }) });
  provider = started;
  current = started.getTracer('membership-events');
  enabled = true;
  return {
    forceFlush: () => started.forceFlush(),
    shutdown: async () => {
      if (provider !== started) return;
      enabled = false;
      provider = null;
      current = null;
      await started.shutdown();
      trace.disable();
      otelContext.disable();
      propagation.disable();
    },
  };
}

// --- Context across boundaries ------------------------------------------------------------------

const setter = {
  set(carrier: TraceCarrier, key: string, value: string) {
    carrier[key] = value;
  },
};
const getter = {
  keys: (carrier: TraceCarrier) => Object.keys(carrier),
  get(carrier: TraceCarrier, key: string): string | string[] | undefined {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    return undefined;
  },
};

/** `traceparent` (and `tracestate`, baggage) of a context, to send along; `{}` while tracing is off. */
export function traceHeaders(ctx: Context = otelContext.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (enabled) propagation.inject(ctx, carrier, setter);
  return carrier;
}

/** The context a carrier (HTTP headers, AMQP headers, event metadata, a message's extensions) continues. */
export function contextFrom(carrier: TraceCarrier | null | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!enabled || !carrier) return base;
  return propagation.extract(base, carrier, getter);
}

/** The span context a carrier names, for a link (null when it names none). */
export function spanContextFrom(carrier: TraceCarrier | null | undefined): SpanContext | null {
  if (!enabled || !carrier || typeof carrier[TRACEPARENT] !== 'string') return null;
  const spanContext = trace.getSpanContext(contextFrom(carrier));
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : null;
}

/** Links to the span contexts of many carriers (one event fanned out, a batch of many), at most `max`, each once. */
export function linksFrom(carriers: Iterable<TraceCarrier | null | undefined>, max = 32): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const carrier of carriers) {
    if (links.length >= max) break;
    const spanContext = spanContextFrom(carrier);
    if (!spanContext || seen.has(spanContext.spanId)) continue;
    seen.add(spanContext.spanId);
    links.push({ context: spanContext });
  }
  return links;
}

// --- Spans ---------------------------------------------------------------------------------------

/** The GraphQL code (`extensions.code`) or domain code of an error, when it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const extensions = (error as { extensions?: { code?: unknown } }).extensions;
  if (typeof extensions?.code === 'string') return extensions.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Mark a span failed by `error`: status, exception event, and its `extensions.code`. */
export function recordError(span: Span, error: unknown): void {
  const code = errorCodeOf(error);
  if (code) span.setAttribute(attr.errorCode, code);
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly links?: Link[];
  /** The parent; the active context when absent. */
  readonly parent?: Context;
}

/**
 * Run `fn` in a new active span, ended when it settles (a throw is recorded and rethrown). While
 * tracing is off `fn` runs alone, with a no-op span.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!enabled) return fn(trace.wrapSpanContext(INVALID));
  const parent = options.parent ?? otelContext.active();
  const span = tracer().startSpan(
    name,
    { ...(options.kind === undefined ? {} : { kind: options.kind }), ...(options.attributes ? { attributes: options.attributes } : {}), ...(options.links ? { links: options.links } : {}) },
    parent,
  );
  try {
    return await otelContext.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Start a span (not made active) under `parent` or the active context; null while tracing is off. */
export function startSpan(name: string, options: SpanOptions = {}): Span | null {
  if (!enabled) return null;
  return tracer().startSpan(
    name,
    { ...(options.kind === undefined ? {} : { kind: options.kind }), ...(options.attributes ? { attributes: options.attributes } : {}), ...(options.links ? { links: options.links } : {}) },
    options.parent ?? otelContext.active(),
  );
}

/** Run `fn` with `span` active (as it is, when null). */
export function withSpan<T>(span: Span | null, fn: () => T, parent: Context = otelContext.active()): T {
  return span ? otelContext.with(trace.setSpan(parent, span), fn) : fn();
}

/**
 * The active span's ids, for log lines (null outside a span, or while tracing is off). Unsampled
 * spans count too: their trace id still ties the log lines of one request together across processes.
 */
export function activeTraceIds(): { traceId: string; spanId: string } | null {
  if (!enabled) return null;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return null;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

/** The active span's ids when it is sampled (what an exemplar may point to), else null. */
export function sampledTraceIds(): { traceId: string; spanId: string } | null {
  if (!enabled) return null;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext) || (spanContext.traceFlags & 1) === 0) return null;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

const INVALID: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 };
