// `eventFlow`: every event of the deployment as it is published (admins), optionally of some types
// or of one correlation id, resumable from `extensions.cursor` like every subscription here. The
// console's event flow page is built on it; with `correlationId` and cursor "0" it replays one
// request's whole causation chain from the store, then follows it live.
import { Arg, Field, ID, Int, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { eventTypes, isEventType, type EventType } from '../../../messaging/events/catalog';
import { ValidationError } from '../../../platform/errors';
import { requireAdmin } from '../../common/context';
import { EventUpdate, subscribeToEntityEvents, updateFieldsOf, type SubscriptionContext } from '../../common/subscription-payload';

/** Every type: the analytics subgraph's live queue binds to all of them for this subscription. */
export const eventFlowEventTypes: readonly EventType[] = eventTypes;

/** Event types a client may name at once (the catalogue is smaller; this bounds hostile input). */
const MAX_TYPES = 100;

@ObjectType({ description: 'One event of the deployment, pushed by the `eventFlow` subscription.' })
export class EventFlowUpdate extends EventUpdate {
  @Field({ description: 'The event type (one of `eventContracts`).' })
  override eventType!: string;

  @Field({ description: 'The stream (aggregate) the event was appended to, e.g. `member-m1`.' })
  streamId!: string;

  @Field(() => Int, { description: 'The version of the stream after this event (1-based).' })
  streamVersion!: number;

  @Field(() => Int, { description: 'The event position in the global order (the cursor as a number).' })
  position!: number;

  @Field(() => ID, { nullable: true, description: 'The id of the event that caused this one; null for an event a request caused directly.' })
  causationId!: string | null;

  @Field(() => String, { nullable: true, description: 'Who caused it: `role:id` (`admin:a1`, `member:m1`, `system:order-saga`); null when nobody is recorded.' })
  actor!: string | null;

  @Field({ description: 'The payload, as JSON text (its shape is the event contract of `eventType`).' })
  payloadJson!: string;
}

function typesArgument(types: readonly string[] | null | undefined): readonly EventType[] {
  if (types === null || types === undefined) return eventFlowEventTypes;
  if (types.length === 0 || types.length > MAX_TYPES) throw new ValidationError(`Give 1 to ${MAX_TYPES} event types, or none for all.`, { field: 'types' });
  const unknown = types.find((t) => !isEventType(t));
  if (unknown !== undefined) throw new ValidationError(`"${unknown.slice(0, 80)}" is not an event type (see eventContracts).`, { field: 'types' });
  return [...new Set(types)] as EventType[];
}

export function toEventFlowUpdate(event: AnyEventEnvelope): EventFlowUpdate {
  return Object.assign(new EventFlowUpdate(), {
    ...updateFieldsOf(event),
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    position: event.position,
    causationId: event.causationId,
    actor: event.actor ? `${event.actor.role}:${event.actor.id}` : null,
    payloadJson: JSON.stringify(event.payload),
  });
}

@Resolver(() => EventFlowUpdate)
export class EventFlowResolver {
  @Subscription(() => EventFlowUpdate, {
    description:
      'Every event of the deployment as it is published, admins only: of the given types (all without), or of one correlation id (a request and everything it caused, across services). Resume with the last `cursor` as `extensions.cursor`; cursor "0" first reads every matching stored event.',
    subscribe: ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      requireAdmin(ctx);
      const { types, correlationId } = args as { types?: string[] | null; correlationId?: string | null };
      const wanted = typesArgument(types);
      if (correlationId !== undefined && correlationId !== null && (correlationId.length === 0 || correlationId.length > 200)) {
        throw new ValidationError('A correlation id has 1 to 200 characters.', { field: 'correlationId' });
      }
      const only = correlationId ?? null;
      return subscribeToEntityEvents(ctx, wanted, (event) => only === null || event.correlationId === only);
    },
  })
  eventFlow(
    @Root() event: AnyEventEnvelope,
    @Arg('types', () => [String], { nullable: true, description: 'Only these event types (1 to 100 of `eventContracts`); every type without.' }) _types: string[] | null,
    @Arg('correlationId', () => ID, { nullable: true, description: 'Only the events of this correlation id: one request and everything it caused.' }) _correlationId: string | null,
  ): EventFlowUpdate {
    return toEventFlowUpdate(event);
  }
}
