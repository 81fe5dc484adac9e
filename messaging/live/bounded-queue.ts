// A bounded async queue for one live subscription: producers push without waiting, one consumer
// pulls. When a slow consumer lets it fill up, it overflows instead of growing: it takes no more,
// the consumer still gets what it holds, then its next pull throws QueueOverflowError. Memory stays
// bounded, and every overflow still moves a resuming consumer forward by a full buffer.

export class QueueOverflowError extends Error {
  constructor(readonly capacity: number) {
    super(`More than ${capacity} items waited for a slow consumer.`);
    this.name = 'QueueOverflowError';
  }
}

type Waiter<T> = { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void };

export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiter: Waiter<T> | null = null;
  private failure: unknown = null;
  private ended = false;
  private endError: unknown = undefined;
  private roomWaiters: (() => void)[] = [];
  private closed = false;

  /** `onClose` runs once, when the consumer stops (return) or the queue ends or fails. */
  constructor(
    readonly capacity: number,
    private readonly onClose: () => void = () => undefined,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Resolves once an item fits (producers that can wait, like a store replay, pace themselves). */
  async room(): Promise<void> {
    while (this.items.length >= this.capacity && !this.ended && this.failure === null) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Add an item; false when it did not fit (the queue has overflowed: it drains, then throws). */
  push(item: T): boolean {
    if (this.ended || this.failure !== null) return false;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) {
      this.end(new QueueOverflowError(this.capacity));
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** No more items: the consumer drains what is queued, then is done (or gets `error`). */
  end(error?: unknown): void {
    if (this.ended || this.failure !== null) return;
    this.ended = true;
    this.endError = error;
    if (this.waiter && this.items.length === 0) {
      const waiter = this.waiter;
      this.waiter = null;
      if (error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(error);
      this.endError = undefined;
    }
    this.close();
  }

  /** Stop with an error: queued items are dropped, the next pull throws it. */
  fail(error: unknown): void {
    if (this.ended || this.failure !== null) return;
    this.failure = error ?? new Error('queue failed');
    this.items = [];
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(this.failure);
    }
    this.close();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.roomWaiters.splice(0).forEach((wake) => wake());
      return Promise.resolve({ value: item, done: false });
    }
    if (this.failure !== null) {
      const failure = this.failure;
      // Thrown once; afterwards the iterator is simply done.
      this.failure = null;
      this.ended = true;
      return Promise.reject(failure);
    }
    if (this.ended) {
      const error = this.endError;
      this.endError = undefined;
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.ended = true;
    this.failure = null;
    this.endError = undefined;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve({ value: undefined, done: true });
    }
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private close(): void {
    this.roomWaiters.splice(0).forEach((wake) => wake());
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}
