// Tracing of the bus, the same for every adapter (as delivery-policy.ts is): a producer span per
// published event, continuing the trace its envelope's metadata keeps (the append that stored it),
// whose `traceparent` travels in the message's headers; and a consumer span per delivery, a child
// of that producer span, with the queue, the event type and the outcome (ack, retry, dead letter).
// A batch delivery (a replay's) is one span linked to each event's trace. Nothing happens while
// tracing is off.
import type { AnyEventEnvelope } from '../events/envelope';
import {
  attr,
  contextFrom,
  linksFrom,
  recordError,
  SpanKind,
  SpanStatusCode,
  startSpan,
  trace,
  traceHeaders,
  TRACEPARENT,
  tracingEnabled,
  withSpan,
  type Span,
  type TraceCarrier,
} from '../../platform/tracing';
import type { Settlement } from './delivery-policy';

export type MessagingSystem = 'rabbitmq' | 'in-process';

/** The producer spans of one publish, one per event, in order; null while tracing is off. */
export interface PublishSpans {
  /** Headers carrying event `index`'s producer span (`traceparent`, `tracestate`). */
  headers(index: number): Record<string, string>;
  /** End every span, failed when `error` is given. */
  end(error?: unknown): void;
}

export function startPublishSpans(events: readonly AnyEventEnvelope[], system: MessagingSystem, destination: string): PublishSpans | null {
  if (!tracingEnabled() || events.length === 0) return null;
  const spans: Span[] = [];
  const headers: Record<string, string>[] = [];
  for (const event of events) {
    const span = startSpan(`publish ${event.type}`, {
      kind: SpanKind.PRODUCER,
      parent: contextFrom(event.metadata),
      attributes: {
        'messaging.system': system,
        'messaging.operation.type': 'send',
        'messaging.destination.name': destination,
        'messaging.message.id': event.id,
        [attr.eventType]: event.type,
        [attr.correlationId]: event.correlationId,
        [attr.streamId]: event.streamId,
        'membership.event.position': event.position,
      },
    });
    if (!span) return null;
    spans.push(span);
    headers.push(traceHeaders(trace.setSpan(contextFrom(event.metadata), span)));
  }
  return {
    headers: (index) => headers[index] ?? {},
    end: (error) => {
      for (const span of spans) {
        if (error !== undefined) recordError(span, error);
        span.end();
      }
    },
  };
}

/** The trace a delivery continues: the message's headers, else the event's own metadata. */
function carrierOf(headers: TraceCarrier | undefined, event: AnyEventEnvelope): TraceCarrier {
  return headers && typeof headers[TRACEPARENT] === 'string' ? headers : event.metadata;
}

/** The consumer span of one delivery; null while tracing is off. */
export function startDeliverySpan(
  headers: TraceCarrier | undefined,
  event: AnyEventEnvelope,
  system: MessagingSystem,
  queue: string,
  attempt: number,
): Span | null {
  if (!tracingEnabled()) return null;
  return startSpan(`process ${event.type}`, {
    kind: SpanKind.CONSUMER,
    parent: contextFrom(carrierOf(headers, event)),
    attributes: {
      'messaging.system': system,
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': event.id,
      [attr.eventType]: event.type,
      [attr.correlationId]: event.correlationId,
      [attr.attempt]: attempt,
      ...(event.metadata.replay ? { 'membership.replay': true } : {}),
    },
  });
}

/** The consumer span of a batch message (replays): one span, linked to the trace of each event. */
export function startBatchDeliverySpan(events: readonly AnyEventEnvelope[], system: MessagingSystem, queue: string, attempt: number): Span | null {
  if (!tracingEnabled()) return null;
  return startSpan(`process batch`, {
    kind: SpanKind.CONSUMER,
    links: linksFrom(events.map((event) => event.metadata)),
    attributes: {
      'messaging.system': system,
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.batch.message_count': events.length,
      [attr.attempt]: attempt,
      ...(events[0] ? { [attr.correlationId]: events[0].correlationId } : {}),
    },
  });
}

/** Run the handler with the delivery's span active, so what it appends and logs joins the trace. */
export function runInDeliverySpan<T>(span: Span | null, fn: () => Promise<T>): Promise<T> {
  return withSpan(span, fn);
}

/** Record what became of the delivery and end its span. */
export function endDeliverySpan(span: Span | null, settlement: Settlement | { readonly action: 'discarded'; readonly reason: string }): void {
  if (!span) return;
  span.setAttribute(attr.outcome, settlement.action);
  if (settlement.action !== 'ack') {
    span.setAttribute('membership.delivery.reason', settlement.reason);
    if (settlement.action === 'dead-letter' || settlement.action === 'discarded') span.setStatus({ code: SpanStatusCode.ERROR, message: settlement.reason });
  }
  span.end();
}

/** Record the outcomes of a batch delivery (counts per outcome) and end its span. */
export function endBatchDeliverySpan(span: Span | null, settlements: readonly Settlement[]): void {
  if (!span) return;
  const counts = { ack: 0, retry: 0, 'dead-letter': 0 };
  for (const settlement of settlements) counts[settlement.action] += 1;
  span.setAttributes({ 'membership.delivery.acked': counts.ack, 'membership.delivery.retried': counts.retry, 'membership.delivery.dead_lettered': counts['dead-letter'] });
  if (counts['dead-letter'] > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `${counts['dead-letter']} dead-lettered` });
  span.end();
}
