// An EventStore decorator that tells local listeners after each successful append (with what was
// appended), so followers in the same process (outbox relay, projections) react at once instead of
// at their next poll, and a follower of other types need not look at all.
import type { AnyNewEvent } from '../events/envelope';
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions, Snapshot } from './event-store';

/** What a listener learns of an appended event: its type (a follower of other types stays asleep). */
export interface AppendedEvent {
  readonly type: string;
}

/**
 * Told of the events of each append made here (the envelopes; those stored before, on an
 * idempotent re-append), and of the types another process announced it appended.
 */
export type AppendListener = (appended: readonly AppendedEvent[]) => void;

export class NotifyingEventStore implements EventStore {
  private readonly listeners = new Set<AppendListener>();
  /** Told of this process's own appends only (what announces them to the others). */
  private readonly localListeners = new Set<AppendListener>();

  constructor(private readonly inner: EventStore) {}

  /** `localOnly`: not told of other processes' announced appends (an announcer must not echo them). */
  onAppend(listener: AppendListener, options: { localOnly?: boolean } = {}): () => void {
    const set = options.localOnly ? this.localListeners : this.listeners;
    set.add(listener);
    return () => set.delete(listener);
  }

  async append(streamId: string, events: readonly AnyNewEvent[], options: AppendOptions): Promise<AppendResult> {
    const result = await this.inner.append(streamId, events, options);
    for (const listener of this.listeners) listener(result.events);
    for (const listener of this.localListeners) listener(result.events);
    return result;
  }

  /** Another process appended events of these types to the same store (see AppendAnnouncements). */
  appendedElsewhere(types: readonly string[]): void {
    const appended = types.map((type) => ({ type }));
    for (const listener of this.listeners) listener(appended);
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
