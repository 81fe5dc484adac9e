// Builds the EventBus the environment asks for: RabbitMQ when RABBITMQ_URL is set, otherwise the
// in-process bus (the embedded default). Callers depend on the port only.
import type { Clock, Timers } from '../../platform/clock';
import type { Logger } from '../../platform/logger';
import type { BusObserver, EventBus } from './event-bus';
import { InProcessEventBus } from './in-process-bus';
import { RabbitMqEventBus, type QueueType, type RabbitMqBusOptions } from './rabbitmq-bus';

export type EventBusOptions =
  | { readonly kind: 'in-process'; readonly maxMessageBytes?: number }
  | ({ readonly kind: 'rabbitmq' } & RabbitMqBusOptions);

export interface EventBusDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly observer?: BusObserver;
  /** In-process bus only: timers for delayed retries (tests move a ManualClock). */
  readonly timers?: Timers;
}

/** What of the RabbitMQ configuration the bus takes besides the URL (RABBITMQ_EXCHANGE, _QUEUE_TYPE, _HOSTS). */
export interface RabbitMqSettings {
  readonly exchange?: string | undefined;
  readonly queueType?: QueueType | undefined;
  readonly hosts?: readonly string[] | undefined;
}

/** The bus options for RABBITMQ_URL (and the other RABBITMQ_* settings): an unset or empty URL means the in-process bus. */
export function eventBusOptionsFor(rabbitmqUrl: string | undefined, settings: RabbitMqSettings = {}): EventBusOptions {
  if (!rabbitmqUrl) return { kind: 'in-process' };
  return {
    kind: 'rabbitmq',
    url: rabbitmqUrl,
    ...(settings.exchange === undefined ? {} : { exchange: settings.exchange }),
    ...(settings.queueType === undefined ? {} : { queueType: settings.queueType }),
    ...(settings.hosts === undefined ? {} : { hosts: settings.hosts }),
  };
}

/** Connects (RabbitMQ: waits for the broker and declares the exchanges, or fails with UNAVAILABLE). */
export async function createEventBus(options: EventBusOptions, deps: EventBusDeps = {}): Promise<EventBus> {
  switch (options.kind) {
    case 'in-process':
      return new InProcessEventBus(options.maxMessageBytes === undefined ? deps : { ...deps, maxMessageBytes: options.maxMessageBytes });
    case 'rabbitmq': {
      const { kind: _kind, ...rabbit } = options;
      const { timers: _timers, ...rabbitDeps } = deps;
      return RabbitMqEventBus.connect(rabbit, rabbitDeps);
    }
    default: {
      const unreachable: never = options;
      throw new Error(`Unknown event bus kind: ${JSON.stringify(unreachable)}`);
    }
  }
}
