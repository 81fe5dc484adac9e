// Time as a dependency: production code asks a Clock (and its Timers), tests move a ManualClock,
// whose timers go off as its time passes their deadline.

export interface Clock {
  now(): Date;
}

/** Delayed callbacks on a clock's time (retries, expiry checks). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock & Timers = {
  now: () => new Date(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The system clock's timers, without keeping the process alive for them (checks that only matter while it runs anyway). */
export const backgroundTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface ManualTimer {
  readonly at: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock, Timers {
  private current: number;
  private readonly timers = new Map<number, ManualTimer>();
  private nextTimer = 1;

  constructor(start: Date | string = '2025-01-15T00:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.moveTo(this.current + ms);
  }
  set(at: Date | string): void {
    this.moveTo(new Date(at).getTime());
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextTimer++;
    this.timers.set(handle, { at: this.current + Math.max(0, ms), callback });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Timers armed and not yet gone off. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moving forward fires each timer due on the way, at its own time, earliest (then first armed) first. */
  private moveTo(target: number): void {
    for (;;) {
      let next: [number, ManualTimer] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].at);
      next[1].callback();
    }
    this.current = target;
  }
}
