// Deletes consumer queues (each with its retry and dead-letter queue) from a broker: for tests and
// benchmarks that declare queues under a throwaway QUEUE_PREFIX (and RABBITMQ_EXCHANGE), and for
// operators retiring a deployment. Durable queues left behind would collect every event published
// afterwards.
import { Connection } from 'rabbitmq-client';
import { deadLetterExchangeOf, EVENTS_EXCHANGE } from './rabbitmq-bus';
import { appendsExchangeOf } from './rabbitmq-append-announcements';

export interface DeleteConsumerQueuesOptions {
  /** A throwaway live exchange to delete too, with its dead-letter exchange (never `events`). */
  readonly exchange?: string;
}

export async function deleteConsumerQueues(url: string, queues: readonly string[], options: DeleteConsumerQueuesOptions = {}): Promise<void> {
  const exchange = options.exchange !== undefined && options.exchange !== EVENTS_EXCHANGE ? options.exchange : null;
  if (queues.length === 0 && exchange === null) return;
  const connection = new Connection({ url, retryLow: 50, retryHigh: 200 });
  try {
    for (const queue of queues) {
      for (const name of [queue, `${queue}.retry`, `${queue}.dlq`]) {
        await connection.queueDelete({ queue: name }).catch(() => undefined);
      }
    }
    if (exchange !== null) {
      for (const name of [exchange, deadLetterExchangeOf(exchange), appendsExchangeOf(exchange)]) {
        await connection.exchangeDelete({ exchange: name }).catch(() => undefined);
      }
    }
  } finally {
    await connection.close();
  }
}
