// The order saga on the bus: each reply from payment, inventory or shipping is one saga input.
// Idempotent by construction (the saga's decisions are in the order stream), so redeliveries,
// replays and competing workers all converge on the same stream.
import { defineConsumer } from '../../../messaging/consumers/consumer-definition';
import { sagaReplyTypes } from '../saga/order-saga';
import type { OrderSagaRunner } from '../saga/saga-runner';

export function orderSagaConsumer(runner: OrderSagaRunner) {
  return defineConsumer({
    name: 'order-saga',
    handles: [...sagaReplyTypes] as [(typeof sagaReplyTypes)[number], ...(typeof sagaReplyTypes)[number][]],
    // Many orders in flight at once: each delivery touches different documents and streams.
    delivery: { prefetch: 50 },
    async handle(event) {
      await runner.applyReply(event);
    },
  });
}
