// Deletes consumer queues (each with its retry and dead-letter queue) from a broker: for tests and
// benchmarks that declare queues under a throwaway QUEUE_PREFIX, and for operators retiring a
// deployment's prefix. Durable queues left behind would collect every event published afterwards.
import { Connection } from 'rabbitmq-client';

export async function deleteConsumerQueues(url: string, queues: readonly string[]): Promise<void> {
  if (queues.length === 0) return;
  const connection = new Connection({ url, retryLow: 50, retryHigh: 200 });
  try {
    for (const queue of queues) {
      for (const name of [queue, `${queue}.retry`, `${queue}.dlq`]) {
        await connection.queueDelete({ queue: name }).catch(() => undefined);
      }
    }
  } finally {
    await connection.close();
  }
}
