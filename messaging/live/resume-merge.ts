// The pure core of resumable subscriptions: merges the events replayed from the store (after the
// client's cursor) with the live events that arrive meanwhile, so that the subscriber sees every
// position once, in order: no gap, no duplicate. No I/O here; the stream feeds it.

export interface Positioned {
  readonly position: number;
}

export type MergeOutput<E> =
  | { readonly kind: 'deliver'; readonly events: readonly E[] }
  /** More live events arrived during the replay than may be held: the caller must end the stream. */
  | { readonly kind: 'overflow' };

export class ResumeMerge<E extends Positioned> {
  private replaying: boolean;
  private lastDelivered: number;
  private buffered: E[] = [];

  /**
   * @param after the client's cursor (last position it saw), or null to start live
   * @param maxBuffered live events held while replaying before giving up
   */
  constructor(after: number | null, private readonly maxBuffered: number) {
    this.replaying = after !== null;
    this.lastDelivered = after ?? 0;
  }

  get position(): number {
    return this.lastDelivered;
  }

  get isReplaying(): boolean {
    return this.replaying;
  }

  /** An event from the live feed. */
  live(event: E): MergeOutput<E> {
    if (this.replaying) {
      if (event.position <= this.lastDelivered) return { kind: 'deliver', events: [] };
      if (this.buffered.length >= this.maxBuffered) return { kind: 'overflow' };
      this.buffered.push(event);
      return { kind: 'deliver', events: [] };
    }
    return { kind: 'deliver', events: this.take(event) };
  }

  /** An event read from the store (in global order) while catching up. */
  replayed(event: E): MergeOutput<E> {
    return { kind: 'deliver', events: this.take(event) };
  }

  /**
   * Back to holding live events while the store is read again (the live feed may have missed some):
   * what was delivered stays delivered, so nothing is repeated.
   */
  reopen(): void {
    this.replaying = true;
  }

  /** The store read reached its head: release the live events held meanwhile, then go live. */
  caughtUp(): MergeOutput<E> {
    this.replaying = false;
    const held = this.buffered.sort((a, b) => a.position - b.position);
    this.buffered = [];
    const out: E[] = [];
    for (const event of held) out.push(...this.take(event));
    return { kind: 'deliver', events: out };
  }

  private take(event: E): E[] {
    if (event.position <= this.lastDelivered) return [];
    this.lastDelivered = event.position;
    return [event];
  }
}
