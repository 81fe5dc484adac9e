// The events one subscription delivers: optionally the ones it missed (read from the store after
// its cursor), then the live ones, merged by ResumeMerge, through a bounded queue. The live
// listener is registered BEFORE the store is read, so an event committed meanwhile is not lost.
// When the live feed reports a gap (its queue was gone while its RabbitMQ connection was down),
// the stream reads the store again from there in the same way: the subscriber sees no hole.
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { EventStore } from '../store/event-store';
import { BoundedQueue } from './bounded-queue';
import type { LiveEventSource } from './live-event-feed';
import { ResumeMerge, type MergeOutput } from './resume-merge';

/** Ends a stream whose consumer fell behind; carries the cursor to resume from. */
export class StreamOverflowError extends Error {
  constructor(readonly resumeAfter: number) {
    super(`The subscription fell behind and was ended: resubscribe with cursor "${resumeAfter}" to get the rest.`);
    this.name = 'StreamOverflowError';
  }
}

export interface EntityEventStreamOptions {
  readonly live: LiveEventSource;
  readonly store: EventStore;
  readonly types: readonly EventType[];
  /** Which events belong to this subscription (e.g. payload.memberId === id). */
  readonly matches: (event: AnyEventEnvelope) => boolean;
  /** The client's cursor (last position it saw), or null for live only. */
  readonly after: number | null;
  /** Events held for a slow consumer (and live events held during the replay). */
  readonly bufferSize: number;
}

export function entityEventStream(options: EntityEventStreamOptions): AsyncIterableIterator<AnyEventEnvelope> {
  const merge = new ResumeMerge<AnyEventEnvelope>(options.after, options.bufferSize);
  let delivered = options.after ?? 0;
  let stopListening: () => void = () => undefined;
  let stopped = false;
  const queue = new BoundedQueue<AnyEventEnvelope>(options.bufferSize, () => {
    stopped = true;
    stopListening();
  });

  const emit = (output: MergeOutput<AnyEventEnvelope>): void => {
    if (output.kind === 'overflow') {
      queue.fail(new StreamOverflowError(delivered));
      return;
    }
    for (const event of output.events) {
      // A full queue fails itself (QueueOverflowError); next() turns that into a resume cursor.
      if (!queue.push(event)) return;
    }
  };

  // Reads the store after `from` while the merge holds live events back, then releases them. A gap
  // reported meanwhile (the feed lost its queue again) makes it read once more from there.
  let reading = false;
  let gapAfter: number | null = null;
  const catchUp = async (from: number): Promise<void> => {
    reading = true;
    for (let start: number | null = from; start !== null; start = gapAfter) {
      gapAfter = null;
      for await (const batch of options.store.readAll({ after: start, types: options.types })) {
        for (const event of batch) {
          if (!options.matches(event)) continue;
          // The store can wait: pace the replay to the reader instead of overflowing it.
          await queue.room();
          if (stopped) return;
          emit(merge.replayed(event));
        }
        if (stopped) return;
      }
    }
    reading = false;
    if (!stopped) emit(merge.caughtUp());
  };
  const readFrom = (from: number): void => {
    void catchUp(from).catch((error: unknown) => queue.fail(error));
  };

  stopListening = options.live.listen(
    options.types,
    (event) => {
      if (options.matches(event)) emit(merge.live(event));
    },
    (after) => {
      if (stopped) return;
      if (reading) {
        gapAfter = Math.min(gapAfter ?? after, after);
        return;
      }
      merge.reopen();
      readFrom(after);
    },
  );

  if (options.after !== null) readFrom(options.after);

  // Track what the consumer actually took, so an overflow names the right cursor.
  const iterator: AsyncIterableIterator<AnyEventEnvelope> = {
    next: async () => {
      try {
        const result = await queue.next();
        if (!result.done) delivered = result.value.position;
        return result;
      } catch (error) {
        if (error instanceof StreamOverflowError) throw error;
        if (error instanceof Error && error.name === 'QueueOverflowError') throw new StreamOverflowError(delivered);
        throw error;
      }
    },
    return: () => queue.return(),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
