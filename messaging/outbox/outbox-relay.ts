// The outbox relay: the event store is the outbox. Commands only append; the relay follows the
// store's global order and publishes every stored event to the bus, recording how far it got.
// While the bus is down appends keep succeeding; the relay retries with backoff and catches up.
// At least once: a crash between publish and checkpoint republishes the last batch, which
// idempotent consumers absorb.
import type { EventBus } from '../bus/event-bus';
import type { EventStore } from '../store/event-store';
import { StoreFollower, type PositionCheckpoint, type StoreFollowerOptions } from '../store/store-follower';
import type { Logger } from '../../platform/logger';

export function createOutboxRelay(
  store: EventStore,
  bus: EventBus,
  checkpoint: PositionCheckpoint,
  logger: Logger,
  options: Omit<StoreFollowerOptions, 'types'> = {},
): StoreFollower {
  // Publishes on one channel keep their order even when their confirms overlap, so several batches
  // may be in flight; the checkpoint still only moves past a batch once it is confirmed.
  return new StoreFollower('outbox-relay', store, checkpoint, (batch) => bus.publish(batch), logger, { pipeline: 4, ...options });
}
