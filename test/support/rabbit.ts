// Test runs declare queues under a random QUEUE_PREFIX; they remove them when they finish.
export { deleteConsumerQueues as deleteQueues } from '../../messaging/bus/rabbitmq-queues';
