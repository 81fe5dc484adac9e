// An EventStore decorator that tells local listeners after each successful append, so followers
// in the same process (outbox relay, projections) react at once instead of at their next poll.
import type { AnyNewEvent } from '../events/envelope';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

export class NotifyingEventStore implements EventStore {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly inner: EventStore) {}

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    const result = await this.inner.append(streamId, events, options);
    for (const listener of this.listeners) listener();
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
