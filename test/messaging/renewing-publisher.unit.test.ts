// RenewingPublisher's channel handling, on fake publishers whose confirms the test gives by hand and
// a ManualClock for the confirm deadline: a channel is replaced when the broker rejects a message or
// a confirm does not come in time, and a replaced channel is not closed under sends still waiting
// for their confirms (closing a channel fails them). The broker's side is in
// renewing-publisher.rabbitmq.int.test.ts.
import type { Publisher, PublisherProps } from 'rabbitmq-client';
import { RenewingPublisher } from '../../messaging/bus/renewing-publisher';
import { ManualClock } from '../../platform/clock';
import { loggerFor } from '../../platform/logger';

interface Pending {
  readonly body: unknown;
  readonly confirm: () => void;
  readonly fail: (error: unknown) => void;
}

/** A publisher whose sends wait until the test confirms or fails them; close fails what is left, as a channel's does. */
class FakePublisher {
  readonly pending: Pending[] = [];
  closed = false;
  send(_envelope: unknown, body: unknown): Promise<void> {
    if (this.closed) return Promise.reject(Object.assign(new Error('publisher is closed'), { code: 'CLOSED' }));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ body, confirm: () => resolve(), fail: reject });
    });
  }
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.fail(Object.assign(new Error('channel is closed'), { code: 'CH_CLOSE' }));
  }
  take(body: unknown): Pending {
    const index = this.pending.findIndex((p) => p.body === body);
    if (index < 0) throw new Error(`no pending send of ${String(body)}`);
    return this.pending.splice(index, 1)[0] as Pending;
  }
}

const nack = () => Object.assign(new Error('message rejected by the broker'), { code: 'NACK' });

function setUp(confirmTimeoutMs?: number) {
  const clock = new ManualClock();
  const made: FakePublisher[] = [];
  const publisher = new RenewingPublisher(
    (_props: PublisherProps) => {
      const fake = new FakePublisher();
      made.push(fake);
      return fake as unknown as Publisher;
    },
    { confirm: true, maxAttempts: 1 },
    loggerFor('test'),
    'test',
    confirmTimeoutMs === undefined ? { timers: clock } : { confirmTimeoutMs, timers: clock },
  );
  return { clock, made, publisher };
}

/** Let settled promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RenewingPublisher', () => {
  it('after a rejection, publishes on a new channel and closes the old one only once its other sends are confirmed', async () => {
    const { made, publisher } = setUp(30_000);
    const first = publisher.send({ routingKey: 'q' }, 'a');
    const second = publisher.send({ routingKey: 'q' }, 'b');
    const old = made[0] as FakePublisher;
    old.take('a').fail(nack());
    await expect(first).rejects.toMatchObject({ code: 'NACK' });
    expect(publisher.renewals).toBe(1);
    expect(made).toHaveLength(2);
    // The old channel still has a send waiting for its confirm: closing it now would fail that send.
    expect(old.closed).toBe(false);

    const third = publisher.send({ routingKey: 'q' }, 'c');
    (made[1] as FakePublisher).take('c').confirm();
    await expect(third).resolves.toBeUndefined();

    old.take('b').confirm();
    await expect(second).resolves.toBeUndefined();
    await flush();
    expect(old.closed).toBe(true);
    expect(made).toHaveLength(2);
  });

  it('replaces a channel once however many of its sends were rejected', async () => {
    const { made, publisher } = setUp(30_000);
    const sends = ['a', 'b', 'c'].map((body) => publisher.send({ routingKey: 'q' }, body));
    for (const body of ['a', 'b', 'c']) (made[0] as FakePublisher).take(body).fail(nack());
    const results = await Promise.allSettled(sends);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(publisher.renewals).toBe(1);
    expect(made).toHaveLength(2);
    await flush();
    expect((made[0] as FakePublisher).closed).toBe(true);
  });

  it('fails a send whose confirm does not come in time as UNAVAILABLE, and moves the next ones to a new channel', async () => {
    const { clock, made, publisher } = setUp(300);
    const lost = publisher.send({ routingKey: 'q' }, 'a');
    clock.advance(299);
    await flush();
    expect(publisher.renewals).toBe(0);
    clock.advance(1);
    await expect(lost).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'RabbitMQ did not confirm the publish within 300 ms' });
    expect(publisher.renewals).toBe(1);
    // Whatever waited on the stuck channel is stuck with it: it is closed at once.
    expect((made[0] as FakePublisher).closed).toBe(true);

    const next = publisher.send({ routingKey: 'q' }, 'b');
    (made[1] as FakePublisher).take('b').confirm();
    await expect(next).resolves.toBeUndefined();
    // The deadline of a confirmed send is disarmed.
    expect(clock.pendingTimers).toBe(0);
  });

  it('a confirm that comes after the deadline changes nothing', async () => {
    const { clock, made, publisher } = setUp(300);
    const late = publisher.send({ routingKey: 'q' }, 'a');
    const pending = (made[0] as FakePublisher).take('a');
    clock.advance(300);
    await expect(late).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    pending.confirm();
    await flush();
    expect(publisher.renewals).toBe(1);
    expect(made).toHaveLength(2);
  });

  it('without a confirm timeout, a send waits for its confirm however long it takes', async () => {
    const { clock, made, publisher } = setUp();
    const send = publisher.send({ routingKey: 'q' }, 'a');
    clock.advance(3_600_000);
    expect(clock.pendingTimers).toBe(0);
    (made[0] as FakePublisher).take('a').confirm();
    await expect(send).resolves.toBeUndefined();
    expect(publisher.renewals).toBe(0);
  });
});
