// The outbox relay's parked list (collection `outbox_parked`): events the bus can never publish, set
// aside so that the relay goes on with the next ones. A parked event stays in the store; admins see
// the list in `eventMonitor` and in /metrics, and republish it (once its cause is fixed) or skip it.
// Parking, republishing and skipping are each recorded as an event (`outbox.event.*`).
import type { EventBus } from '../bus/event-bus';
import { classifyPublishFailure, failureReason } from '../bus/publish-failure';
import type { EventPayload } from '../events/catalog';
import type { Actor, AnyEventEnvelope, AnyNewEvent, CausationContext } from '../events/envelope';
import { outboxEventsParked, registerParkedGauge } from '../monitor/metrics';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import type { EventStore } from '../store/event-store';
import type { Clock } from '../../platform/clock';
import { DomainError, IllegalStateError, NotFoundError } from '../../platform/errors';
import { deterministicUuid } from '../../platform/ids';
import type { Logger } from '../../platform/logger';

export const PARKED_EVENTS_COLLECTION = 'outbox_parked';

export type ParkedStatus = 'parked' | 'republished' | 'skipped';

export interface ParkedEventDoc {
  /** The parked event's id. */
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly position: number;
  readonly correlationId: string;
  /** Why the bus refused it (the last failed attempt's reason). */
  readonly reason: string;
  readonly status: ParkedStatus;
  /** Publishes that failed for good: 1 when parked, one more per failed republish. */
  readonly failedAttempts: number;
  readonly parkedAt: string;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  /** Why an admin skipped it. */
  readonly note: string | null;
}

/** What the relay needs of a parked list: set an event aside, once. */
export interface ParkingLot {
  park(event: AnyEventEnvelope, reason: string): Promise<void>;
}

/** A parking lot that only keeps the events in memory (tests and benchmarks of the relay alone). */
export function memoryParkingLot(): ParkingLot & { readonly parked: { event: AnyEventEnvelope; reason: string }[] } {
  const parked: { event: AnyEventEnvelope; reason: string }[] = [];
  return {
    parked,
    park: async (event, reason) => {
      if (!parked.some((p) => p.event.id === event.id)) parked.push({ event, reason });
    },
  };
}

export function parkedEventsCollection(documents: DocumentStore): DocumentCollection<ParkedEventDoc> {
  return documents.collection<ParkedEventDoc>(PARKED_EVENTS_COLLECTION, { indexes: ['status', 'position'] });
}

/** The stream recording what happened to one parked event (ids are at most 200 characters; stream ids too). */
function auditStreamOf(eventId: string): string {
  return eventId.length <= 150 ? `outbox-parked-${eventId}` : `outbox-parked-${deterministicUuid(`outbox-parked:${eventId}`)}`;
}

export interface ParkedEventsDeps {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class ParkedEvents implements ParkingLot {
  private readonly collection: DocumentCollection<ParkedEventDoc>;

  constructor(private readonly deps: ParkedEventsDeps) {
    this.collection = parkedEventsCollection(deps.documents);
    registerParkedGauge(() => this.collection.count({ status: 'parked' }));
  }

  /** Record `event` as parked (once: parking it again, after a restart, changes nothing). */
  async park(event: AnyEventEnvelope, reason: string): Promise<void> {
    const inserted = await this.collection.insert({
      id: event.id,
      type: event.type,
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      position: event.position,
      correlationId: event.correlationId,
      reason,
      status: 'parked',
      failedAttempts: 1,
      parkedAt: this.deps.clock.now().toISOString(),
      resolvedAt: null,
      resolvedBy: null,
      note: null,
    });
    if (!inserted) return;
    outboxEventsParked.inc({ type: event.type });
    this.deps.logger.error({ eventId: event.id, type: event.type, position: event.position, reason }, 'parked an event the bus cannot publish; later events go on');
    await this.record(event.id, 'outbox.event.parked', { ...this.facts(event), reason }, {
      correlationId: event.correlationId,
      causationId: event.id,
      actor: { id: 'outbox-relay', role: 'system' },
    });
  }

  /** The parked list itself, for paging it (the graph's `parkedEvents`). */
  get documents(): DocumentCollection<ParkedEventDoc> {
    return this.collection;
  }

  get(eventId: string): Promise<ParkedEventDoc | null> {
    return this.collection.get(eventId);
  }

  /** In store order; `status` null for every status. */
  list(status: ParkedStatus | null, limit: number): Promise<ParkedEventDoc[]> {
    return this.collection.find({ ...(status ? { where: { status } } : {}), orderBy: { field: 'position' }, limit });
  }

  count(status: ParkedStatus): Promise<number> {
    return this.collection.count({ status });
  }

  /**
   * Publish a parked event again (after its cause was fixed). It arrives late: after the events that
   * followed it, which consumers have handled. Still refused for good: INVALID_EVENT, the event stays
   * parked with the new reason; the bus unavailable: UNAVAILABLE, try again.
   */
  async republish(eventId: string, actor: Actor, correlationId: string): Promise<ParkedEventDoc> {
    const doc = await this.requireParked(eventId);
    const event = (await this.deps.store.readStream(doc.streamId, doc.streamVersion)).find((e) => e.id === eventId);
    if (!event) throw new NotFoundError(`Parked event ${eventId} is no longer in stream ${doc.streamId}.`, { eventId });
    try {
      await this.deps.bus.publish([event]);
    } catch (error) {
      const reason = failureReason(error);
      if (classifyPublishFailure(error) === 'transient') {
        throw new DomainError('UNAVAILABLE', `Could not publish event ${eventId} now (${reason}): try again later.`, { eventId });
      }
      await this.collection.update(eventId, (current) =>
        current?.status === 'parked' ? { ...current, reason, failedAttempts: current.failedAttempts + 1 } : null,
      );
      throw new DomainError('INVALID_EVENT', `The bus still cannot publish event ${eventId}: ${reason}. Skip it (skipParkedEvent), or fix the cause and retry.`, {
        eventId,
      });
    }
    return this.resolve(doc, 'republished', null, actor, correlationId);
  }

  /** Never publish a parked event (it stays in the store); `note` says why. */
  async skip(eventId: string, note: string, actor: Actor, correlationId: string): Promise<ParkedEventDoc> {
    const doc = await this.requireParked(eventId);
    return this.resolve(doc, 'skipped', note, actor, correlationId);
  }

  private async requireParked(eventId: string): Promise<ParkedEventDoc> {
    const doc = await this.collection.get(eventId);
    if (!doc) throw new NotFoundError(`No parked event with id ${eventId}.`, { eventId });
    if (doc.status !== 'parked') {
      throw new IllegalStateError(`Event ${eventId} was already ${doc.status}${doc.resolvedBy ? ` by ${doc.resolvedBy}` : ''}.`, { eventId, status: doc.status });
    }
    return doc;
  }

  private async resolve(doc: ParkedEventDoc, status: 'republished' | 'skipped', note: string | null, actor: Actor, correlationId: string): Promise<ParkedEventDoc> {
    const at = this.deps.clock.now().toISOString();
    const stored = await this.collection.update(doc.id, (current) =>
      current?.status === 'parked' ? { ...current, status, resolvedAt: at, resolvedBy: actor.id, note } : null,
    );
    if (!stored || stored.resolvedAt !== at || stored.resolvedBy !== actor.id || stored.status !== status) {
      throw new IllegalStateError(`Event ${doc.id} was resolved by someone else meanwhile.`, { eventId: doc.id, status: stored?.status ?? null });
    }
    const context = { correlationId, causationId: doc.id, actor };
    if (status === 'republished') await this.record(doc.id, 'outbox.event.republished', { ...this.facts(doc), failedAttempts: doc.failedAttempts }, context);
    else await this.record(doc.id, 'outbox.event.skipped', { ...this.facts(doc), reason: note ?? 'skipped' }, context);
    return stored;
  }

  private facts(event: { id: string; type: string; streamId: string; position: number }) {
    return { eventId: event.id, eventType: event.type, streamId: event.streamId, position: event.position };
  }

  /** One audit event per step and parked event (deterministic id: repeating the step stores nothing new). */
  private async record<T extends 'outbox.event.parked' | 'outbox.event.republished' | 'outbox.event.skipped'>(
    eventId: string,
    type: T,
    payload: EventPayload<T>,
    context: CausationContext,
  ): Promise<void> {
    const event = { id: deterministicUuid(`${type}:${eventId}`), type, payload } as AnyNewEvent;
    await this.deps.store.append(auditStreamOf(eventId), [event], { expectedVersion: 'any', context });
  }
}
