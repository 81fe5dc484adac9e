// Removes the durable queues a test run declared (each consumer queue with its retry queue and
// dead-letter queue), so test runs do not leave queues on the shared broker collecting events.
import { Connection } from 'rabbitmq-client';

export async function deleteQueues(url: string, queues: readonly string[]): Promise<void> {
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
