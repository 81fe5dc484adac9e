// What every subscription shares: its context (the live feed and the event store, the client's
// resume cursor), the payload fields every update carries (event type, time, cursor), and how a
// payload's entity is resolved by reference so its fields come from wherever they are resolved.
import { tracingEnabled, type TraceCarrier } from '../../platform/tracing';
import { isObjectType, type GraphQLResolveInfo } from 'graphql';
import { Field, ID, ObjectType, type PubSub } from 'type-graphql';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import type { EventType } from '../../messaging/events/catalog';
import type { EventStore } from '../../messaging/store/event-store';
import { payloadKey, type LiveEventSource } from '../../messaging/live/live-event-feed';
import { entityEventStream } from '../../messaging/live/entity-event-stream';
import { formatCursor, parseCursor } from '../../platform/subscription-protocol';
import { DomainError, ValidationError } from '../../platform/errors';
import type { SubgraphContext } from './context';

/**
 * type-graphql insists on a PubSub once any @Subscription exists, even though ours all bring their
 * own `subscribe` (fed by the live event feed): pass this as `pubSub` to buildSchema.
 */
export const topicsNotSupported: PubSub = {
  publish: () => {
    throw new Error('Subscriptions here are fed by events: publish to the event bus, not to a PubSub topic.');
  },
  subscribe: () => {
    throw new Error('Subscriptions here use `subscribe` (the live event feed), not PubSub topics.');
  },
};

/** What a subgraph process gives its subscriptions. */
export interface SubscriptionSources {
  readonly live: LiveEventSource;
  readonly store: EventStore;
  /** Events held per subscription for a slow reader before it is ended with a resume cursor. */
  readonly bufferSize: number;
}

/** The context of a subscription (graphql-ws) operation on a subgraph. */
export interface SubscriptionContext extends SubgraphContext {
  readonly subscription?: {
    readonly sources: SubscriptionSources | null;
    /** `extensions.cursor` of the subscribe message, as the client passed it. */
    readonly cursor: unknown;
    /**
     * Position of the event being emitted: set as each event is taken from the stream, read when
     * its result is sent (graphql-js maps one event at a time), to put the cursor in `extensions`.
     */
    readonly current: { position: number | null; trace?: TraceCarrier | null };
  };
}

/** Base of every subscription payload type; unreferenced itself, so only its subclasses are emitted. */
@ObjectType({ description: 'What every subscription payload carries.' })
export abstract class EventUpdate {
  @Field(() => ID, { description: 'Unique id: the id of the event this update is about.' })
  id!: string;

  /** Each payload type declares `eventType` as a field, describing the events it reports (eventTypeDescription). */
  abstract eventType: string;

  @Field(() => Date, { description: 'When the event happened.' })
  occurredAt!: Date;

  @Field({
    description: "The event's position in the global order: pass it back as `extensions.cursor` to resume after it.",
  })
  cursor!: string;

  @Field(() => ID, {
    description:
      "The correlation id of the request that caused this event (the `x-correlation-id` it sent or was given), carried by every event that request led to, across services.",
  })
  correlationId!: string;
}

/** The description of a payload's `eventType`: what it reports, and every event type it can be. */
export function eventTypeDescription(what: string, types: readonly string[]): string {
  const listed = types.map((t) => `\`${t}\``);
  return types.length === 1 ? `${what}: always ${listed[0]}.` : `${what}: ${listed.slice(0, -1).join(', ')} or ${listed[listed.length - 1]}.`;
}

/** The common fields of an update, from the event that caused it. */
export function updateFieldsOf(event: AnyEventEnvelope): Pick<EventUpdate, 'id' | 'eventType' | 'occurredAt' | 'cursor' | 'correlationId'> {
  return { id: event.id, eventType: event.type, occurredAt: new Date(event.occurredAt), cursor: formatCursor(event.position), correlationId: event.correlationId };
}

/** The events of one entity for one subscription: missed ones after the cursor, then live ones. */
export function subscribeToEntityEvents(
  ctx: SubscriptionContext,
  types: readonly EventType[],
  matches: (event: AnyEventEnvelope) => boolean,
  /** The payload field and value every matching event has: the live feed then hands this subscription only those. */
  route?: { readonly field: string; readonly value: string },
): AsyncIterableIterator<AnyEventEnvelope> {
  const sources = ctx.subscription?.sources;
  if (!sources) throw new DomainError('UNAVAILABLE', 'Subscriptions are not available on this subgraph instance.');
  let after: number | null;
  try {
    after = parseCursor(ctx.subscription?.cursor);
  } catch (error) {
    throw new ValidationError((error as Error).message, { field: 'extensions.cursor' });
  }
  const stream = entityEventStream({
    live: sources.live,
    store: sources.store,
    types,
    matches,
    ...(route ? { route: { keyOf: payloadKey(route.field), key: route.value } } : {}),
    after,
    bufferSize: sources.bufferSize,
  });
  const current = ctx.subscription?.current;
  const tracked: AsyncIterableIterator<AnyEventEnvelope> = {
    next: async () => {
      const result = await stream.next();
      if (!result.done && current) {
        current.position = result.value.position;
        // The trace the event belongs to, continued by the `next` message sent for it (subscription-server.ts).
        if (tracingEnabled()) current.trace = result.value.metadata;
      }
      return result;
    },
    return: async () => (stream.return ? stream.return() : { value: undefined, done: true }),
    [Symbol.asyncIterator]: () => tracked,
  };
  return tracked;
}

/**
 * Resolve an entity the way the gateway would (its `__resolveReference`), so a payload that names
 * an entity by key gets the same fields as `_entities` does, whoever implements them.
 */
export async function resolveEntityReference(
  info: GraphQLResolveInfo,
  typeName: string,
  reference: Record<string, unknown>,
  context: unknown,
): Promise<unknown> {
  const type = info.schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type of this subgraph.`);
  const extensions = type.extensions as { apollo?: { subgraph?: { resolveReference?: unknown } } };
  const resolveReference = extensions.apollo?.subgraph?.resolveReference;
  const withTypename = { __typename: typeName, ...reference };
  if (typeof resolveReference !== 'function') return withTypename;
  return (resolveReference as (r: unknown, c: unknown, i: GraphQLResolveInfo) => unknown)(withTypename, context, info);
}

/** Ends an entity's event stream after the event that closes it (a saga's final step, a replay's end). */
export function endAfter(
  stream: AsyncIterableIterator<AnyEventEnvelope>,
  isLast: (event: AnyEventEnvelope) => boolean,
): AsyncIterableIterator<AnyEventEnvelope> {
  let done = false;
  const iterator: AsyncIterableIterator<AnyEventEnvelope> = {
    next: async () => {
      if (done) {
        await stream.return?.();
        return { value: undefined, done: true };
      }
      const result = await stream.next();
      if (!result.done && isLast(result.value)) done = true;
      return result;
    },
    return: async () => (stream.return ? stream.return() : { value: undefined, done: true }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
