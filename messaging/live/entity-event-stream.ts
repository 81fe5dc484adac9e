// The events one subscription delivers: optionally the ones it missed (read from the store after
// its cursor), then the live ones, merged by ResumeMerge, through a bounded queue. The live
// listener is registered BEFORE the store is read, so an event committed meanwhile is not lost.
// When the live feed reports a gap (its queue was gone while its RabbitMQ connection was down),
// the stream reads the store again from there in the same way: the subscriber sees no hole.
import type { AnyEventEnvelope } from '../events/envelope';
import type { EventType } from '../events/catalog';
import type { EventStore } from '../store/event-store';
import { BoundedQueue } from './bounded-queue';
import type { LiveEventSource, LiveRoute } from './live-event-feed';
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
  /** The key the live feed routes this subscription's events by (those `matches` takes have it). */
  readonly route?: LiveRoute;
  /** The client's cursor (last position it saw), or null for live only. */
  readonly after: number | null;
  /** Events held for a slow consumer (and live events held during the replay). */
  readonly bufferSize: number;
}

export function entityEventStream(options: EntityEventStreamOptions): AsyncIterableIterator<AnyEventEnvelope> {
  const stream = new EntityEventStream(options);
  stream.start();
  return stream;
}

class EntityEventStream implements AsyncIterableIterator<AnyEventEnvelope> {
  private readonly merge: ResumeMerge<AnyEventEnvelope>;
  private readonly queue: BoundedQueue<AnyEventEnvelope>;
  /** The position of the last event the consumer took: where an overflow tells it to resume. */
  private delivered: number;
  private stopListening: () => void = () => undefined;
  private stopped = false;
  /** Reading the store (the merge holds live events back meanwhile). */
  private reading = false;
  /** A gap reported while reading: read once more from there. */
  private gapAfter: number | null = null;

  constructor(private readonly options: EntityEventStreamOptions) {
    this.merge = new ResumeMerge<AnyEventEnvelope>(options.after, options.bufferSize);
    this.delivered = options.after ?? 0;
    this.queue = new BoundedQueue<AnyEventEnvelope>(options.bufferSize, () => {
      this.stopped = true;
      this.stopListening();
    });
  }

  /** Listen live first, then read what the client missed: an event committed meanwhile is not lost. */
  start(): void {
    const { options } = this;
    this.stopListening = options.live.listen(
      options.types,
      (event) => {
        if (options.matches(event)) this.emit(this.merge.live(event));
      },
      (after) => this.gap(after),
      options.route,
    );
    if (options.after !== null) this.readFrom(options.after);
  }

  // Track what the consumer actually took, so an overflow names the right cursor.
  async next(): Promise<IteratorResult<AnyEventEnvelope>> {
    try {
      const result = await this.queue.next();
      if (!result.done) this.delivered = result.value.position;
      return result;
    } catch (error) {
      if (error instanceof StreamOverflowError) throw error;
      if (error instanceof Error && error.name === 'QueueOverflowError') throw new StreamOverflowError(this.delivered);
      throw error;
    }
  }

  return(): Promise<IteratorResult<AnyEventEnvelope>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The live feed lost events after `after` (its queue was gone): read them from the store. */
  private gap(after: number): void {
    if (this.stopped) return;
    if (this.reading) {
      this.gapAfter = Math.min(this.gapAfter ?? after, after);
      return;
    }
    this.merge.reopen();
    this.readFrom(after);
  }

  private emit(output: MergeOutput<AnyEventEnvelope>): void {
    if (output.kind === 'overflow') {
      this.queue.fail(new StreamOverflowError(this.delivered));
      return;
    }
    for (const event of output.events) {
      // A full queue fails itself (QueueOverflowError); next() turns that into a resume cursor.
      if (!this.queue.push(event)) return;
    }
  }

  private readFrom(from: number): void {
    void this.catchUp(from).catch((error: unknown) => this.queue.fail(error));
  }

  /**
   * Read the store after `from` while the merge holds live events back, then release them. A gap
   * reported meanwhile (the feed lost its queue again) makes it read once more from there.
   */
  private async catchUp(from: number): Promise<void> {
    const { options } = this;
    this.reading = true;
    for (let start: number | null = from; start !== null; start = this.gapAfter) {
      this.gapAfter = null;
      for await (const batch of options.store.readAll({ after: start, types: options.types })) {
        for (const event of batch) {
          if (!options.matches(event)) continue;
          // The store can wait: pace the replay to the reader instead of overflowing it.
          await this.queue.room();
          if (this.stopped) return;
          this.emit(this.merge.replayed(event));
        }
        if (this.stopped) return;
      }
    }
    this.reading = false;
    if (!this.stopped) this.emit(this.merge.caughtUp());
  }
}
