// What arrived, taken one at a time: a test waits on the next item, never on time (the timeout only
// bounds a wait for something that never comes).
export class Mailbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  take(what: string, timeoutMs: number): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve, reject) => {
      const waiter = (received: T) => {
        clearTimeout(timer);
        resolve(received);
      };
      const timer = setTimeout(() => {
        // Withdraw, so a later item is not swallowed by a waiter nobody listens to.
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next item if one comes within `ms`, else null. */
  async poll(ms: number): Promise<T | null> {
    try {
      return await this.take('an item', ms);
    } catch {
      return null;
    }
  }

  /** Items arrived and not taken yet. */
  get pending(): number {
    return this.items.length;
  }
}
