// Test runs declare queues under a random QUEUE_PREFIX and publish to an exchange of their own
// (RABBITMQ_EXCHANGE), so that test files running at once on one broker never see each other's
// events; they remove both when they finish.
export { deleteConsumerQueues as deleteQueues } from '../../messaging/bus/rabbitmq-queues';

/** The environment that keeps one test deployment apart on a shared broker. */
export function isolatedBroker(prefix: string): { QUEUE_PREFIX: string; RABBITMQ_EXCHANGE: string } {
  return { QUEUE_PREFIX: prefix, RABBITMQ_EXCHANGE: `${prefix}events` };
}
