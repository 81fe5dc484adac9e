// The outbox relay: the event store is the outbox. Commands only append; the relay follows the
// store's global order and publishes every stored event to the bus, recording how far it got.
// While the bus is down appends keep succeeding; the relay retries with backoff and catches up.
// At least once: a crash between publish and checkpoint republishes the last batch, which
// idempotent consumers absorb. Poison-proof: an event the bus can never publish (it cannot be
// encoded, or is larger than a message may be) is parked and the relay goes on with the next ones;
// only failures retrying can fix (broker down, not confirmed) hold it back.
import type { EventBus } from '../bus/event-bus';
import { classifyPublishFailure, failureReason, unpublishableIn, type UnpublishableEvent } from '../bus/publish-failure';
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventStore } from '../store/event-store';
import { ReadAgain, StoreFollower, type PositionCheckpoint, type StoreFollowerOptions } from '../store/store-follower';
import { DomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { memoryParkingLot, type ParkingLot } from './parked-events';

export interface OutboxRelayOptions extends Omit<StoreFollowerOptions, 'types'> {
  /** Where events the bus can never publish are set aside (default: a list in memory). */
  readonly parking?: ParkingLot;
  /**
   * Events parked in a row, with nothing published in between, after which the relay stops parking
   * and backs off instead: a bus refusing everything is broken, not fed poison. Default 20.
   */
  readonly maxConsecutiveParks?: number;
}

/**
 * Publishes the relay's batches, parking what the bus refuses for good. Events the bus says at once
 * it cannot publish (too large, not serialisable) are left out before the batch is sent, so the rest
 * go out in order with the pipelined batches around them. A batch that fails for good while being
 * sent (an encoder error, naming no event or some) has its poison found and parked; then the relay
 * reads again from its position and the rest go out in order again (at least once, as after any
 * failed batch).
 */
export class ParkingPublisher {
  /** Events parked since start, left out of every later batch (a read again finds them again). */
  private readonly parked = new Set<string>();
  private consecutiveParks = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly parking: ParkingLot,
    private readonly logger: Logger,
    private readonly maxConsecutiveParks = 20,
  ) {}

  /** Not async on purpose: the sends of a batch start before the next batch is handed over. */
  publish(batch: readonly AnyEventEnvelope[]): Promise<void> {
    try {
      let sendable = this.parked.size === 0 ? batch : batch.filter((e) => !this.parked.has(e.id));
      const refused = sendable.length > 0 ? (this.bus.unpublishable?.(sendable) ?? []) : [];
      if (refused.length > 0) {
        const ids = new Set(refused.map((r) => r.eventId));
        sendable = sendable.filter((e) => !ids.has(e.id));
      }
      const sending = sendable.length > 0 ? this.bus.publish(sendable) : null;
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ from: batch[0]?.position, to: batch[batch.length - 1]?.position, count: sendable.length }, 'publishing');
        sending?.then(
          () => this.logger.debug({ from: batch[0]?.position, to: batch[batch.length - 1]?.position }, 'published'),
          (error: unknown) => this.logger.debug({ err: error, from: batch[0]?.position, to: batch[batch.length - 1]?.position }, 'publish failed'),
        );
      }
      return this.settle(batch, sendable, sending, refused);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async settle(
    batch: readonly AnyEventEnvelope[],
    sendable: readonly AnyEventEnvelope[],
    sending: Promise<void> | null,
    refused: readonly UnpublishableEvent[],
  ): Promise<void> {
    // Parked before the batch counts as done (the checkpoint passes it only then). A refusal to park
    // (the guard, or the store down) fails the batch as a whole, to be handled again.
    const parking = refused.length > 0 ? this.park(batch, refused).then(() => null, (error: unknown) => error) : null;
    if (sending) {
      try {
        await sending;
        this.consecutiveParks = 0;
      } catch (error) {
        await parking;
        if (classifyPublishFailure(error) === 'transient') throw error;
        const named = unpublishableIn(error, sendable);
        const poison = named.length > 0 ? named : await this.isolate(sendable);
        if (poison !== 'published') {
          await this.park(batch, poison, error);
          throw new ReadAgain(`parked ${poison.map((p) => p.eventId).join(', ')}`);
        }
      }
    }
    const parkError = await parking;
    if (parkError) throw parkError;
  }

  /**
   * A permanent failure that names no event: publish the batch one event at a time up to the first
   * the bus refuses for good. 'published' when every one went out (the batch is done).
   */
  private async isolate(events: readonly AnyEventEnvelope[]): Promise<UnpublishableEvent[] | 'published'> {
    for (const event of events) {
      try {
        await this.bus.publish([event]);
        this.consecutiveParks = 0;
      } catch (error) {
        // The broker went away meanwhile: back off as for any outage.
        if (classifyPublishFailure(error) === 'transient') throw error;
        return [{ eventId: event.id, reason: failureReason(error) }];
      }
    }
    return 'published';
  }

  private async park(batch: readonly AnyEventEnvelope[], poison: readonly UnpublishableEvent[], cause?: unknown): Promise<void> {
    if (this.consecutiveParks + poison.length > this.maxConsecutiveParks) {
      this.logger.error({ err: cause, parkedInARow: this.consecutiveParks }, 'the bus refuses event after event: not parking more, retrying the batch');
      throw new DomainError(
        'UNAVAILABLE',
        `The bus refused ${this.consecutiveParks + poison.length} events in a row for good; the relay stops parking and retries (is the bus misconfigured?)` +
          `: ${poison[0]?.reason ?? failureReason(cause)}`,
      );
    }
    const byId = new Map(batch.map((e) => [e.id, e]));
    for (const p of poison) {
      const event = byId.get(p.eventId);
      if (!event) continue;
      await this.parking.park(event, p.reason);
      this.parked.add(event.id);
      this.consecutiveParks++;
    }
  }
}

export function createOutboxRelay(
  store: EventStore,
  bus: EventBus,
  checkpoint: PositionCheckpoint,
  logger: Logger,
  options: OutboxRelayOptions = {},
): StoreFollower {
  const { parking = memoryParkingLot(), maxConsecutiveParks, ...follower } = options;
  const publisher = new ParkingPublisher(bus, parking, logger, maxConsecutiveParks);
  // Publishes on one channel keep their order even when their confirms overlap, so several batches
  // may be in flight; the checkpoint still only moves past a batch once it is confirmed. Once one
  // fails, the follower hands on nothing more until it is published again, so that no later event
  // reaches a queue first (after a lost connection, on the new one).
  return new StoreFollower('outbox-relay', store, checkpoint, (batch) => publisher.publish(batch), logger, {
    pipeline: RELAY_PIPELINE_BATCHES,
    pipelineEvents: RELAY_PIPELINE_EVENTS,
    ...follower,
  });
}

/**
 * Batches the relay keeps in flight. A confirm waits for every queue the event was routed to, the
 * durable quorum queues of the consumers among them, and so for their disk: mostly under 5 ms, but
 * a slow fsync held confirms 15-45 ms several times a minute in the benchmark and once for 296 ms.
 * Under a steady load the relay publishes a small batch per append (one every few milliseconds), and
 * with 4 in flight it stopped publishing within one such stall, so the subgraphs' live feeds (classic
 * queues, in memory, delivered as soon as published) waited for a disk they never touch. 64 batches
 * ride out such a stall at hundreds of events a second.
 */
export const RELAY_PIPELINE_BATCHES = 64;
/** Events in flight at most (a catch-up reads batches of up to 500): bounds what is held unconfirmed. */
export const RELAY_PIPELINE_EVENTS = 2_000;
