// An EventStore decorator that tells local listeners after each successful append (with what was
// appended), so followers in the same process (outbox relay, projections) react at once instead of
// at their next poll, and a follower of other types need not look at all.
import type { AnyEventEnvelope, AnyNewEvent } from '../events/envelope';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

/** Told of the envelopes of each append (those stored before, on an idempotent re-append). */
export type AppendListener = (appended: readonly AnyEventEnvelope[]) => void;

export class NotifyingEventStore implements EventStore {
  private readonly listeners = new Set<AppendListener>();

  constructor(private readonly inner: EventStore) {}

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    const result = await this.inner.append(streamId, events, options);
    for (const listener of this.listeners) listener(result.events);
    return result;
  }

  readStream(streamId: string, fromVersion?: number) {
    return this.inner.readStream(streamId, fromVersion);
  }

  streamVersion(streamId: string): Promise<number> {
    return this.inner.streamVersion(streamId);
  }

  readAll(options?: ReadAllOptions) {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  saveSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    return this.inner.saveSnapshot(snapshot);
  }

  loadSnapshot<S>(streamId: string): Promise<Snapshot<S> | null> {
    return this.inner.loadSnapshot<S>(streamId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
