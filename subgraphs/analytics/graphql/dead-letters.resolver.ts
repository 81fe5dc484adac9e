// Admins: a consumer's dead letters on `eventMonitor { consumers { deadLetterSample } }`, and the
// two ways out of its dead-letter queue: back to the queue for a fresh round of attempts, or dropped
// for good. Both are recorded as events (`dead.letter.requeued`, `dead.letter.discarded`).
import { Arg, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import type { DeadLetter as BusDeadLetter } from '../../../messaging/bus/event-bus';
import type { DeadLetters } from '../../../messaging/monitor/dead-letters';
import { ValidationError } from '../../../platform/errors';
import { requireAdmin, type SubgraphContext } from '../../common/context';
import { ConsumerKind, ConsumerStatus } from './event-monitor.type';

const MAX_SAMPLE = 100;

@ObjectType({ description: "A message in a consumer's dead-letter queue: an event it gave up on, with why." })
export class DeadLetter {
  @Field(() => ID, { description: 'Unique id: the consumer and the event id.' })
  id!: string;

  @Field(() => ID, { description: 'The id of the event the message carries (what requeueDeadLetter and discardDeadLetter take).' })
  eventId!: string;

  @Field({ description: 'The event type the message carries (as sent: a dead letter may be of no known type).' })
  eventType!: string;

  @Field(() => String, { nullable: true, description: 'The stream of the event, when the message names one.' })
  streamId!: string | null;

  @Field(() => String, { nullable: true, description: 'The correlation id of the event, when the message names one.' })
  correlationId!: string | null;

  @Field({ description: 'Why the consumer gave up on it (the last failure, or the validation error).' })
  reason!: string;

  @Field(() => Int, { description: 'Deliveries it had before it was dead-lettered.' })
  attempts!: number;

  @Field(() => Date, { description: 'When it was dead-lettered.' })
  deadLetteredAt!: Date;

  @Field({ description: 'The message body as JSON text (the event envelope as it was sent).' })
  messageJson!: string;
}

export function toDeadLetter(consumer: string, letter: BusDeadLetter): DeadLetter {
  const event = letter.event as unknown as Record<string, unknown>;
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  const eventId = text(event.id) ?? '(no id)';
  return Object.assign(new DeadLetter(), {
    id: `${consumer}:${eventId}`,
    eventId,
    eventType: text(event.type) ?? '(no type)',
    streamId: text(event.streamId),
    correlationId: text(event.correlationId),
    reason: letter.reason,
    attempts: letter.attempts,
    deadLetteredAt: new Date(Number.isNaN(Date.parse(letter.deadLetteredAt)) ? 0 : Date.parse(letter.deadLetteredAt)),
    messageJson: JSON.stringify(letter.event),
  });
}

@Resolver(() => ConsumerStatus)
export class DeadLettersResolver {
  constructor(private readonly deadLetters: DeadLetters) {}

  @FieldResolver(() => [DeadLetter], {
    description: "The first dead letters of a consumer's queue, oldest first (empty for followers); they stay in the queue.",
  })
  async deadLetterSample(
    @Root() consumer: ConsumerStatus,
    @Arg('size', () => Int, { defaultValue: 20, description: `How many (0 to ${MAX_SAMPLE}).` }) size: number,
  ): Promise<DeadLetter[]> {
    if (!Number.isInteger(size) || size < 0 || size > MAX_SAMPLE) throw new ValidationError(`size must be 0 to ${MAX_SAMPLE}.`, { field: 'size' });
    if (consumer.kind !== ConsumerKind.CONSUMER || !consumer.deadLetters || size === 0) return [];
    return (await this.deadLetters.peek(consumer.name, size)).map((l) => toDeadLetter(consumer.name, l));
  }

  @Mutation(() => DeadLetter, {
    description:
      "Admins: send a dead letter back to its consumer's queue for a fresh round of attempts (recorded as `dead.letter.requeued`). Unknown: NOT_FOUND.",
  })
  async requeueDeadLetter(
    @Arg('consumer', { description: 'The consumer, as eventMonitor names it (e.g. crm).' }) consumer: string,
    @Arg('eventId', () => ID, { description: 'The event id of the dead letter.' }) eventId: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DeadLetter> {
    const identity = requireAdmin(ctx);
    return toDeadLetter(consumer, await this.deadLetters.requeue(consumer, eventId, { id: identity.sub, role: identity.role }, ctx.correlationId));
  }

  @Mutation(() => DeadLetter, {
    description: "Admins: drop a dead letter for good, saying why (recorded as `dead.letter.discarded`). Unknown: NOT_FOUND.",
  })
  async discardDeadLetter(
    @Arg('consumer', { description: 'The consumer, as eventMonitor names it (e.g. crm).' }) consumer: string,
    @Arg('eventId', () => ID, { description: 'The event id of the dead letter.' }) eventId: string,
    @Arg('reason', { description: 'Why it is dropped (1 to 500 characters), kept in the audit event.' }) reason: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DeadLetter> {
    const identity = requireAdmin(ctx);
    return toDeadLetter(consumer, await this.deadLetters.discard(consumer, eventId, reason, { id: identity.sub, role: identity.role }, ctx.correlationId));
  }
}
