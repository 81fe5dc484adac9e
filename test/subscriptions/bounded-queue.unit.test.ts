// The bounded queue between a live source and a (possibly slow) subscriber.
import { BoundedQueue, QueueOverflowError } from '../../messaging/live/bounded-queue';

describe('BoundedQueue', () => {
  it('hands items to a waiting consumer in order', async () => {
    const queue = new BoundedQueue<number>(2);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    await expect(first).resolves.toEqual({ value: 1, done: false });
    await expect(queue.next()).resolves.toEqual({ value: 2, done: false });
  });

  it('overflows instead of growing: takes no more, hands over what it holds, then throws', async () => {
    let closed = 0;
    const queue = new BoundedQueue<number>(2, () => closed++);
    expect(queue.push(1)).toBe(true);
    expect(queue.push(2)).toBe(true);
    expect(queue.push(3)).toBe(false);
    expect(queue.push(4)).toBe(false);
    expect(queue.size).toBe(2);
    expect(closed).toBe(1);
    await expect(queue.next()).resolves.toEqual({ value: 1, done: false });
    await expect(queue.next()).resolves.toEqual({ value: 2, done: false });
    await expect(queue.next()).rejects.toBeInstanceOf(QueueOverflowError);
    await expect(queue.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('delivers what is queued before the error an ending source reports', async () => {
    const queue = new BoundedQueue<number>(5);
    queue.push(1);
    queue.end(new Error('upstream gone'));
    await expect(queue.next()).resolves.toEqual({ value: 1, done: false });
    await expect(queue.next()).rejects.toThrow('upstream gone');
  });

  it('fails a waiting consumer at once', async () => {
    const queue = new BoundedQueue<number>(5);
    const pending = queue.next();
    queue.fail(new Error('expired'));
    await expect(pending).rejects.toThrow('expired');
  });

  it('lets a producer that can wait pace itself to the consumer', async () => {
    const queue = new BoundedQueue<number>(1);
    queue.push(1);
    let roomy = false;
    const room = queue.room().then(() => (roomy = true));
    await Promise.resolve();
    expect(roomy).toBe(false);
    await queue.next();
    await room;
    expect(roomy).toBe(true);
  });

  it('stops cleanly when the consumer returns', async () => {
    let closed = 0;
    const queue = new BoundedQueue<number>(5, () => closed++);
    const pending = queue.next();
    await queue.return();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(queue.push(1)).toBe(false);
    expect(closed).toBe(1);
  });
});
