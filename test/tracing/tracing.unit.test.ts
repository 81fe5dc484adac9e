// platform/tracing.ts and the pieces built on it, in memory: off unless configured (and then a no-op),
// the OTEL_* settings, and with an in-memory exporter: trace ids on log lines, the append stamping
// its trace context into each event, the in-process bus continuing it through publish and delivery
// (child spans, outcomes), and a follower's batch linking the traces of its events.
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ack, deadLetter, type DeliverySettlement } from '../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../messaging/bus/in-process-bus';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { StoreFollower } from '../../messaging/store/store-follower';
import { TracingEventStore } from '../../messaging/store/tracing-event-store';
import { ConfigError, loadConfig } from '../../platform/config';
import { createRootLogger, loggerFor } from '../../platform/logger';
import {
  contextFrom,
  inSpan,
  otlpTracesUrl,
  samplerFor,
  startTracing,
  traceHeaders,
  tracingEnabled,
  type TracingHandle,
} from '../../platform/tracing';
import { eventually } from '../support/wait';

const memberCreated = { memberId: 'm-1', email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' } as const;

describe('tracing configuration', () => {
  it('is off unless an exporter is configured', () => {
    const cfg = loadConfig({ NODE_ENV: 'test' });
    expect(cfg.OTEL_TRACES_EXPORTER).toBe('none');
    const handle = startTracing(cfg, { serviceName: 'membership-test' });
    expect(tracingEnabled()).toBe(false);
    expect(traceHeaders()).toEqual({});
    return handle.shutdown();
  });

  it('turns on with an endpoint, posting to <endpoint>/v1/traces or to the traces endpoint as given', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).OTEL_TRACES_EXPORTER).toBe('otlp');
    expect(otlpTracesUrl(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/x' }))).toBe('https://b/x');
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).OTEL_TRACES_EXPORTER).toBe('console');
  });

  it('refuses settings that cannot work, naming the variable', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' })).toThrow(/OTEL_TRACES_EXPORTER.*OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%3Db, x-team = blue' }).OTEL_EXPORTER_OTLP_HEADERS).toEqual({ 'api-key': 'a=b', 'x-team': 'blue' });
  });

  it('samples as OTEL_TRACES_SAMPLER says, following the parent by default', () => {
    expect(samplerFor(loadConfig({})).toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
    expect(samplerFor(loadConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' })).toString()).toMatch(/TraceIdRatioBased\{0\.01\}/);
    expect(samplerFor(loadConfig({ OTEL_TRACES_SAMPLER: 'always_off' })).toString()).toBe('AlwaysOffSampler');
  });

  it('while off, runs work without spans and stores events without trace context', async () => {
    const store = new TracingEventStore(new MemoryEventStore(), 'memory');
    const result = await inSpan('ignored', {}, () => store.append('member-m-1', [{ type: 'member.created', payload: memberCreated }], { expectedVersion: 'no_stream', context: { correlationId: 'c' } }));
    expect(result.events[0]?.metadata).toEqual({ replay: false });
  });
});

describe('tracing on (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle;
  beforeAll(() => {
    tracing = startTracing(loadConfig({ NODE_ENV: 'test' }), { serviceName: 'membership-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });
  afterAll(() => tracing.shutdown());
  beforeEach(() => exporter.reset());
  const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

  it('puts the trace and span ids on every log line written inside a span, and none outside', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createRootLogger(sink, 'info').child({ component: 'test' });
    logger.info('outside');
    const ids = await inSpan('request', {}, async (span) => {
      logger.info({ n: 1 }, 'inside');
      await Promise.resolve();
      logger.warn('still inside, after an await');
      return span.spanContext();
    });
    logger.info('outside again');
    expect(lines.map((l) => [l.msg, l.traceId, l.spanId])).toEqual([
      ['outside', undefined, undefined],
      ['inside', ids.traceId, ids.spanId],
      ['still inside, after an await', ids.traceId, ids.spanId],
      ['outside again', undefined, undefined],
    ]);
    expect(lines[1]).toMatchObject({ n: 1, component: 'test' });
  });

  it('continues a W3C traceparent it is given, and records errors with their code', async () => {
    const parent = contextFrom({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await expect(
      inSpan('failing', { parent }, async () => {
        throw Object.assign(new Error('no such member'), { extensions: { code: 'NOT_FOUND' } });
      }),
    ).rejects.toThrow('no such member');
    const [span] = finished('failing');
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span?.attributes['membership.error.code']).toBe('NOT_FOUND');
    expect(span?.status.code).toBe(2);
  });

  it('stamps the append span into each stored event, which the bus continues through publish and delivery', async () => {
    const store = new TracingEventStore(new MemoryEventStore(), 'memory');
    const settled: DeliverySettlement[] = [];
    const bus = new InProcessEventBus({ observer: { settled: (s) => settled.push(s) } });
    const handled: AnyEventEnvelope[] = [];
    await bus.consume({ queue: 'crm', bindings: ['member.*'] }, async (event) => {
      handled.push(event);
      return ack;
    });
    await bus.consume({ queue: 'picky', bindings: ['member.*'], maxAttempts: 1 }, async () => deadLetter('not for me'));

    const stored = await inSpan('command', {}, () =>
      store.append('member-m-1', [{ type: 'member.created', payload: memberCreated }], { expectedVersion: 'no_stream', context: { correlationId: 'corr-1' } }),
    );
    const [append] = finished('event store append');
    expect(append?.parentSpanContext?.spanId).toBe(finished('command')[0]?.spanContext().spanId);
    expect(append?.attributes).toMatchObject({ 'membership.correlation_id': 'corr-1', 'membership.event.type': 'member.created', 'db.system.name': 'memory' });
    const event = stored.events[0] as AnyEventEnvelope;
    expect(event.metadata.traceparent).toBe(`00-${append?.spanContext().traceId}-${append?.spanContext().spanId}-01`);

    await bus.publish([event]);
    await eventually(() => settled.length >= 2, 'both deliveries settled');
    const [publish] = finished('publish member.created');
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    expect(publish?.parentSpanContext?.spanId).toBe(append?.spanContext().spanId);
    const deliveries = finished('process member.created');
    expect(deliveries.map((d) => [d.attributes['messaging.destination.name'], d.attributes['membership.delivery.outcome'], d.parentSpanContext?.spanId]).sort()).toEqual([
      ['crm', 'ack', publish?.spanContext().spanId],
      ['picky', 'dead-letter', publish?.spanContext().spanId],
    ]);
    expect(deliveries.every((d) => d.kind === SpanKind.CONSUMER && d.attributes['membership.correlation_id'] === 'corr-1')).toBe(true);
    // The handler saw the event as stored: the trace context stays in its metadata.
    expect(handled[0]?.metadata.traceparent).toBe(event.metadata.traceparent);
    await bus.close();
  });

  it('links a follower batch to the trace of each of its events', async () => {
    const store = new TracingEventStore(new MemoryEventStore(), 'memory');
    for (const id of ['m-1', 'm-2']) {
      await inSpan(`command ${id}`, {}, () =>
        store.append(`member-${id}`, [{ type: 'member.created', payload: { ...memberCreated, memberId: id } }], { expectedVersion: 'no_stream', context: { correlationId: id } }),
      );
    }
    let position = 0;
    const checkpoint = { load: async () => position, save: async (p: number) => void (position = p) };
    const batches: number[] = [];
    const follower = new StoreFollower('read-model', store, checkpoint, async (batch) => void batches.push(batch.length), loggerFor('test'), { pollIntervalMs: 5, saveDelayMs: 0 });
    await follower.start();
    await eventually(() => position === 2, 'the follower to catch up');
    await follower.stop();
    const appends = finished('event store append');
    const [follow] = finished('follow read-model');
    expect(batches).toEqual([2]);
    expect(follow?.parentSpanContext).toBeUndefined();
    expect(follow?.links.map((l) => l.context.spanId).sort()).toEqual(appends.map((a) => a.spanContext().spanId).sort());
  });
});
