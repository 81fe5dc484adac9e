// An EventStore decorator for tracing: each append is a span, and every event it stores keeps that
// span's W3C trace context in its metadata (`traceparent`, `tracestate`), so whatever handles the
// event later (relay, consumers, sagas, projections, replays, subscription pushes), in any process,
// continues the trace of the request or message that caused it. While tracing is off it only forwards.
import type { AnyNewEvent } from '../events/envelope';
import { attr, inSpan, SpanKind, traceHeaders, tracingEnabled } from '../../platform/tracing';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

export class TracingEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    /** `db.system.name` of the spans: sqlite, mongodb, memory. */
    private readonly system: string,
  ) {}

  append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    if (!tracingEnabled()) return this.inner.append(streamId, events, options);
    return inSpan(
      'event store append',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': this.system,
          'db.operation.name': 'append',
          [attr.streamId]: streamId,
          [attr.eventCount]: events.length,
          [attr.eventType]: [...new Set(events.map((e) => e.type))].join(','),
          [attr.correlationId]: options.context.correlationId,
        },
      },
      (span) => {
        const trace = traceHeaders();
        const stamped = events.map((event) => ({ ...event, metadata: { ...event.metadata, ...trace } }) as AnyNewEvent);
        return this.inner.append(streamId, stamped, options).then((result) => {
          span.setAttribute('membership.stream.version', result.nextExpectedVersion);
          return result;
        });
      },
    );
  }

  readStream(streamId: string, fromVersion?: number) {
    return this.inner.readStream(streamId, fromVersion);
  }

  streamVersion(streamId: string) {
    return this.inner.streamVersion(streamId);
  }

  readAll(options?: ReadAllOptions) {
    return this.inner.readAll(options);
  }

  headPosition() {
    return this.inner.headPosition();
  }

  saveSnapshot<S>(snapshot: Snapshot<S>) {
    return this.inner.saveSnapshot(snapshot);
  }

  loadSnapshot<S>(streamId: string) {
    return this.inner.loadSnapshot<S>(streamId);
  }

  close() {
    return this.inner.close();
  }
}
