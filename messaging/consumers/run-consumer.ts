// Puts a defined consumer on the bus: its queue is named after it, bound to the types it handles,
// and every delivery goes through the idempotent wrapper.
import type { EventType } from '../events/catalog';
import type { Consumer, EventBus, EventHandler } from '../bus/event-bus';
import { observeDelivery } from '../monitor/metrics';
import type { DocumentStore } from '../state/document-store';
import { bindingsOf, type ConsumerDefinition, type DeliverySettings } from './consumer-definition';
import { consumerCheckpoints, emptyCheckpoint } from './consumer-checkpoints';
import { createIdempotentHandler, type IdempotentHandlerOptions } from './idempotent-consumer';

export interface StartConsumerOptions extends IdempotentHandlerOptions, DeliverySettings {}

/**
 * How long a running consumer's checkpoint bumps gather before one update writes them: the
 * checkpoint is a measure (lag, counts), so it may trail by this much, and a delivery need not wait
 * for it. Per mutation this was about two of the product's seventeen writes at 200 mutations/s.
 */
export const CONSUMER_CHECKPOINT_DELAY_MS = 100;

/** Start consuming; settings given here override the definition's `delivery` settings. */
export async function startConsumer<Ts extends readonly [EventType, ...EventType[]]>(
  bus: EventBus,
  documents: DocumentStore,
  definition: ConsumerDefinition<Ts>,
  options: StartConsumerOptions = {},
): Promise<Consumer> {
  const { clock, logger, checkpointDelayMs, ...delivery } = options;
  const settings = { ...definition.delivery, ...withoutUndefined(delivery) };
  const handler = createIdempotentHandler(documents, definition, {
    ...(clock ? { clock } : {}),
    ...(logger ? { logger } : {}),
    checkpointDelayMs: checkpointDelayMs ?? CONSUMER_CHECKPOINT_DELAY_MS,
  });
  // Register the consumer (and what it handles) before its first event, so the monitor lists it.
  const handles = [...definition.handles];
  await consumerCheckpoints(documents).update(definition.name, (current) => {
    if (!current) return { ...emptyCheckpoint(definition.name), handles };
    return JSON.stringify(current.handles) === JSON.stringify(handles) ? null : { ...current, handles };
  });
  const queue = definition.name;
  // Timed for membership_delivery_duration_seconds, inside the delivery's span (its exemplar).
  const timed: EventHandler = async (event, delivery) => {
    const started = performance.now();
    let outcome = 'retry';
    try {
      const result = await handler(event, delivery);
      outcome = result.kind;
      return result;
    } finally {
      observeDelivery(queue, outcome, (performance.now() - started) / 1000);
    }
  };
  const consumer = await bus.consume({ queue, bindings: bindingsOf(definition), ...settings }, timed);
  return {
    get queue() {
      return consumer.queue;
    },
    close: async () => {
      await consumer.close();
      await handler.flushCheckpoint();
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
