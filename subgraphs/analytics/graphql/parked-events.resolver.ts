// Admins: the outbox relay's parked events on `eventMonitor`, and the two ways out of the list:
// publish it again (once its cause is fixed) or skip it for good. Both are recorded as events.
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Resolver } from 'type-graphql';
import type { ParkedEventDoc, ParkedEvents, ParkedStatus } from '../../../messaging/outbox/parked-events';
import { ValidationError } from '../../../platform/errors';
import { ConnectionArgs, pageDocuments } from '../../common/connection';
import { requireAdmin, type SubgraphContext } from '../../common/context';
import { EventMonitor } from './event-monitor.type';
import { ParkedEvent, ParkedEventConnection, ParkedEventStatus } from './parked-event.type';

// The enum's values are its names: a default argument value reaches the resolver as the name.
const statusOf = { PARKED: 'parked', REPUBLISHED: 'republished', SKIPPED: 'skipped' } as const satisfies Record<ParkedEventStatus, ParkedStatus>;
const graphStatusOf = { parked: ParkedEventStatus.PARKED, republished: ParkedEventStatus.REPUBLISHED, skipped: ParkedEventStatus.SKIPPED } as const satisfies Record<
  ParkedStatus,
  ParkedEventStatus
>;

function toParkedEvent(doc: ParkedEventDoc): ParkedEvent {
  return Object.assign(new ParkedEvent(), {
    id: doc.id,
    eventId: doc.id,
    type: doc.type,
    streamId: doc.streamId,
    position: doc.position,
    correlationId: doc.correlationId,
    reason: doc.reason,
    status: graphStatusOf[doc.status],
    failedAttempts: doc.failedAttempts,
    parkedAt: new Date(doc.parkedAt),
    resolvedAt: doc.resolvedAt ? new Date(doc.resolvedAt) : null,
    resolvedBy: doc.resolvedBy,
    note: doc.note,
  });
}

@Resolver(() => EventMonitor)
export class ParkedEventsResolver {
  constructor(private readonly parked: ParkedEvents) {}

  @FieldResolver(() => Int, { description: 'Events the outbox relay parked that wait for an admin (retryParkedEvent or skipParkedEvent).' })
  parkedTotal(): Promise<number> {
    return this.parked.count('parked');
  }

  @FieldResolver(() => ParkedEventConnection, { description: 'Events the outbox relay parked, in store order (PARKED ones by default; null for all).' })
  parkedEvents(
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('status', () => ParkedEventStatus, { nullable: true, defaultValue: ParkedEventStatus.PARKED, description: 'Only events in this status (PARKED by default); null for all.' })
    status: ParkedEventStatus | null,
  ): Promise<ParkedEventConnection> {
    return pageDocuments(
      ParkedEventConnection,
      this.parked.documents,
      { list: 'parkedEvents', ...(status === null ? {} : { where: { status: statusOf[status] } }), orderBy: { field: 'position', direction: 'asc' } },
      page,
      toParkedEvent,
    );
  }

  @Mutation(() => ParkedEvent, {
    description:
      'Admins: publish a parked event again, once its cause is fixed (it arrives after the events that followed it). Still refused: INVALID_EVENT, it stays parked; bus down: UNAVAILABLE.',
  })
  async retryParkedEvent(@Arg('eventId', () => ID, { description: 'The parked event to publish again.' }) eventId: string, @Ctx() ctx: SubgraphContext): Promise<ParkedEvent> {
    const identity = requireAdmin(ctx);
    return toParkedEvent(await this.parked.republish(eventId, { id: identity.sub, role: identity.role }, ctx.correlationId));
  }

  @Mutation(() => ParkedEvent, { description: 'Admins: never publish a parked event (it stays in the store); say why.' })
  async skipParkedEvent(
    @Arg('eventId', () => ID, { description: 'The parked event to skip for good (it stays in the store).' }) eventId: string,
    @Arg('reason', { description: 'Why it is skipped (1 to 500 characters), kept with it and in the audit event.' }) reason: string,
    @Ctx() ctx: SubgraphContext): Promise<ParkedEvent> {
    const identity = requireAdmin(ctx);
    const note = reason.trim();
    if (note.length === 0 || note.length > 500) throw new ValidationError('reason must be 1 to 500 characters.', { field: 'reason' });
    return toParkedEvent(await this.parked.skip(eventId, note, { id: identity.sub, role: identity.role }, ctx.correlationId));
  }
}
