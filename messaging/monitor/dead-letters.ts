// An operator's view of a consumer's dead letters: read the first few of its queue, send one back
// for a fresh round of attempts, or discard one for good. Both actions are recorded as events
// (`dead.letter.requeued`, `dead.letter.discarded`) on the stream `dead-letters-<consumer>`.
import { DEAD_LETTER_SCAN_LIMIT, type DeadLetter, type DeadLetterAction, type EventBus } from '../bus/event-bus';
import type { Actor, AnyNewEvent } from '../events/envelope';
import type { EventStore } from '../store/event-store';
import { NotFoundError, ValidationError } from '../../platform/errors';
import { deterministicUuid } from '../../platform/ids';
import { unsafeCharacterIn } from '../../platform/safe-text';

/** A consumer's name as the API gives it (`crm`): the queue is the deployment's prefix plus it. */
const CONSUMER_NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const MAX_EVENT_ID = 200;
const MAX_REASON = 500;

export interface DeadLettersDeps {
  readonly bus: EventBus;
  readonly store: EventStore;
  /** The deployment's QUEUE_PREFIX. */
  readonly queuePrefix: string;
}

export class DeadLetters {
  constructor(private readonly deps: DeadLettersDeps) {}

  /** The first `limit` dead letters of a consumer's queue (kept where they are). */
  async peek(consumer: string, limit: number): Promise<DeadLetter[]> {
    return this.deps.bus.peekDeadLetters(this.queueOf(consumer), Math.min(Math.max(0, limit), DEAD_LETTER_SCAN_LIMIT));
  }

  requeue(consumer: string, eventId: string, actor: Actor, correlationId: string): Promise<DeadLetter> {
    return this.settle(consumer, eventId, 'requeue', null, actor, correlationId);
  }

  discard(consumer: string, eventId: string, reason: string, actor: Actor, correlationId: string): Promise<DeadLetter> {
    const note = reason.trim();
    const unsafe = unsafeCharacterIn(note);
    if (unsafe) throw new ValidationError(`reason may not contain ${unsafe}.`, { field: 'reason' });
    if (note === '' || note.length > MAX_REASON) throw new ValidationError(`reason must be 1 to ${MAX_REASON} characters.`, { field: 'reason' });
    return this.settle(consumer, eventId, 'discard', note, actor, correlationId);
  }

  private queueOf(consumer: string): string {
    if (!CONSUMER_NAME.test(consumer)) throw new ValidationError('consumer is a consumer name as eventMonitor shows it (e.g. crm).', { field: 'consumer' });
    return `${this.deps.queuePrefix}${consumer}`;
  }

  private async settle(consumer: string, eventId: string, action: DeadLetterAction, note: string | null, actor: Actor, correlationId: string): Promise<DeadLetter> {
    const queue = this.queueOf(consumer);
    const unsafe = unsafeCharacterIn(eventId);
    if (unsafe) throw new ValidationError(`eventId may not contain ${unsafe}.`, { field: 'eventId' });
    if (eventId.trim() === '' || eventId.length > MAX_EVENT_ID) throw new ValidationError(`eventId must be 1 to ${MAX_EVENT_ID} characters.`, { field: 'eventId' });
    const letter = await this.deps.bus.settleDeadLetter(queue, eventId, action);
    if (!letter) throw new NotFoundError(`No dead letter of event ${eventId} in ${consumer}'s queue.`, { field: 'eventId' });
    const facts = {
      consumer,
      queue,
      eventId,
      eventType: String((letter.event as { type?: unknown }).type ?? '').slice(0, 200),
      deadLetterReason: letter.reason.slice(0, 1000),
      attempts: letter.attempts,
    };
    // One record per action and letter (a letter requeued, dead again and requeued again is a new one: its time differs).
    const key = `${action}:${queue}:${eventId}:${letter.deadLetteredAt}`;
    const event = (action === 'requeue'
      ? { id: deterministicUuid(`dead.letter.requeued:${key}`), type: 'dead.letter.requeued', payload: facts }
      : { id: deterministicUuid(`dead.letter.discarded:${key}`), type: 'dead.letter.discarded', payload: { ...facts, reason: note ?? '' } }) as AnyNewEvent;
    await this.deps.store.append(`dead-letters-${consumer}`, [event], { expectedVersion: 'any', context: { correlationId, causationId: null, actor } });
    return letter;
  }
}
