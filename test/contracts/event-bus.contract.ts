// The EventBus contract: one suite, run against every adapter (in-process and RabbitMQ).
// On a shared broker other processes publish to the same `events` exchange, so every test handles
// only the events it published itself (by id) and acks anything else.
import { randomUUID } from 'node:crypto';
import {
  ack,
  deadLetter,
  retry,
  type BusObserver,
  type ConsumeOptions,
  type Delivery,
  type DeliverySettlement,
  type EventBus,
  type EventHandler,
  hasTemporaryTopics,
} from '../../messaging/bus/event-bus';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { classifyPublishFailure, UnpublishableEventsError } from '../../messaging/bus/publish-failure';
import { makeEnvelope, makeInvalidEnvelope } from '../support/envelopes';

export interface EventBusHarness {
  /** A new bus; the suite closes it after each test. `maxMessageBytes` caps the JSON size of an event. */
  create(deps: { observer: BusObserver }, options?: { maxMessageBytes?: number }): Promise<EventBus>;
  /** Remove a queue used by a test with its retry and dead-letter queues (nothing to do in process). */
  deleteQueue(queue: string): Promise<void>;
  /** Whether only this suite publishes on the bus (then dead-letter counts are asserted exactly). */
  readonly isolated: boolean;
}

/** A growing list that tests can wait on: resolves when a condition holds, fails after a bound. */
export class Watch<T> {
  readonly items: T[] = [];
  private waiters: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async until(condition: (items: readonly T[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this.items)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (have ${this.items.length} items).`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** A promise with its resolver outside, to hold a handler open until the test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

interface Received {
  readonly event: AnyEventEnvelope;
  readonly delivery: Delivery;
  readonly consumer: string;
}

export function eventBusContract(harness: EventBusHarness): void {
  let bus: EventBus;
  let queues: string[];
  let mine: Set<string>;
  let settlements: Watch<DeliverySettlement>;

  beforeEach(async () => {
    queues = [];
    mine = new Set();
    settlements = new Watch();
    bus = await harness.create({ observer: { settled: (s) => settlements.push(s) } }, { maxMessageBytes: 64 * 1024 });
  });

  afterEach(async () => {
    await bus.close();
    for (const queue of queues) await harness.deleteQueue(queue);
  });

  function queueName(label: string): string {
    const queue = `test.bus.${label}.${randomUUID().slice(0, 8)}`;
    queues.push(queue);
    return queue;
  }

  async function publishMine(events: readonly AnyEventEnvelope[]): Promise<void> {
    for (const event of events) mine.add(event.id);
    await bus.publish(events);
  }

  /** Consume, recording own events into `inbox` and acking foreign ones untouched. */
  function consumeMine(
    options: ConsumeOptions,
    inbox: Watch<Received>,
    decide: EventHandler = async () => ack,
    consumer = 'c1',
  ) {
    return bus.consume(options, async (event, delivery) => {
      if (!mine.has(event.id)) return ack;
      inbox.push({ event, delivery, consumer });
      return decide(event, delivery);
    });
  }

  const idsOf = (items: readonly Received[]) => items.map((r) => r.event.id);
  const hasAll = (ids: readonly string[]) => (items: readonly Received[]) => {
    const seen = new Set(idsOf(items));
    return ids.every((id) => seen.has(id));
  };
  const settledAs = (id: string, outcome: DeliverySettlement['outcome']) => (items: readonly DeliverySettlement[]) =>
    items.some((s) => s.eventId === id && s.outcome === outcome);

  describe('health', () => {
    it('reports itself up while open and down once closed, naming itself', async () => {
      const open = await bus.health();
      expect(open).toMatchObject({ ok: true, detail: 'ok' });
      expect(open.backend).toMatch(/RabbitMQ|in-process/);
      await bus.close();
      expect(await bus.health()).toMatchObject({ backend: open.backend, ok: false, detail: 'the bus is closed' });
    });
  });

  describe('publish and consume', () => {
    it('delivers a published event, validated and intact, to a consumer of a bound queue', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('basic');
      await consumeMine({ queue, bindings: ['member.created'] }, inbox);
      const event = makeEnvelope('member.created');
      await publishMine([event]);

      await inbox.until(hasAll([event.id]), 'the event');
      const [received] = inbox.items;
      expect(received?.event).toEqual(event);
      expect(received?.delivery).toEqual({ attempt: 1, redelivered: false, queue });
    });

    it('delivers the events of one queue in publish order', async () => {
      const inbox = new Watch<Received>();
      await consumeMine({ queue: queueName('order'), bindings: ['member.*'], prefetch: 1 }, inbox);
      const events = Array.from({ length: 20 }, () => makeEnvelope('member.created'));
      await publishMine(events);

      await inbox.until(hasAll(events.map((e) => e.id)), 'all 20 events');
      expect(idsOf(inbox.items)).toEqual(events.map((e) => e.id));
    });

    it('keeps messages published while no consumer is attached to a durable queue', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('durable');
      const first = await consumeMine({ queue, bindings: ['email.sent'] }, inbox);
      await first.close();
      const event = makeEnvelope('email.sent');
      await publishMine([event]);

      await consumeMine({ queue, bindings: ['email.sent'] }, inbox);
      await inbox.until(hasAll([event.id]), 'the event published while nobody consumed');
    });

    it('refuses an event it can never publish (larger than its message size) naming it, sends none of that batch, and publishes on', async () => {
      const inbox = new Watch<Received>();
      await consumeMine({ queue: queueName('too-large'), bindings: ['member.*'] }, inbox);
      const before = makeEnvelope('member.created');
      const huge = makeEnvelope('member.profile.updated', { memberId: 'm-1', changes: { bio: { before: null, after: 'x'.repeat(70 * 1024) } } });
      const attempt = publishMine([before, huge]);
      await expect(attempt).rejects.toBeInstanceOf(UnpublishableEventsError);
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_EVENT', events: [{ eventId: huge.id, reason: expect.stringMatching(/bytes, more than the 65536/) }] });
      expect(classifyPublishFailure(await attempt.catch((e: unknown) => e))).toBe('permanent');

      const after = makeEnvelope('member.created');
      await publishMine([after]);
      await inbox.until(hasAll([after.id]), 'the event published after the refused batch');
      // Nothing of the refused batch was sent: the first event received is the later one.
      expect(idsOf(inbox.items)).toEqual([after.id]);
    });
  });

  describe('routing', () => {
    it('routes by topic pattern: member.*, *.completed, # and an exact type', async () => {
      const patterns = ['member.*', '*.completed', '#', 'email.sent'] as const;
      const inboxes = new Map(patterns.map((p) => [p, new Watch<Received>()] as const));
      for (const pattern of patterns) {
        await consumeMine({ queue: queueName('route'), bindings: [pattern], prefetch: 1 }, inboxes.get(pattern)!);
      }
      const all = [
        makeEnvelope('member.created'),
        makeEnvelope('member.profile.updated'),
        makeEnvelope('membership.renewed'),
        makeEnvelope('sync.completed'),
        makeEnvelope('email.sent'),
      ];
      await publishMine(all);
      // Sentinels published after: once a queue has its sentinel, everything before it was routed.
      const sentinels = { 'member.*': makeEnvelope('member.created'), '*.completed': makeEnvelope('sync.completed'), 'email.sent': makeEnvelope('email.sent') };
      await publishMine(Object.values(sentinels));

      const expected: Record<(typeof patterns)[number], string[]> = {
        'member.*': ['member.created'],
        '*.completed': ['sync.completed'],
        '#': ['member.created', 'member.profile.updated', 'membership.renewed', 'sync.completed', 'email.sent'],
        'email.sent': ['email.sent'],
      };
      for (const pattern of patterns) {
        const inbox = inboxes.get(pattern)!;
        const sentinel = pattern === '#' ? sentinels['email.sent'] : sentinels[pattern];
        await inbox.until(hasAll([sentinel.id]), `the sentinel of ${pattern}`);
        const fromFirstBatch = inbox.items.filter((r) => all.some((e) => e.id === r.event.id)).map((r) => r.event.type);
        expect({ pattern, types: fromFirstBatch }).toEqual({ pattern, types: expected[pattern] });
      }
    });

    it('gives each of two queues bound to the same pattern its own copy', async () => {
      const a = new Watch<Received>();
      const b = new Watch<Received>();
      await consumeMine({ queue: queueName('copy-a'), bindings: ['membership.*'] }, a);
      await consumeMine({ queue: queueName('copy-b'), bindings: ['membership.*'] }, b);
      const events = [makeEnvelope('membership.renewed'), makeEnvelope('membership.activated')];
      await publishMine(events);

      await a.until(hasAll(events.map((e) => e.id)), 'both events in queue a');
      await b.until(hasAll(events.map((e) => e.id)), 'both events in queue b');
      expect(idsOf(a.items).sort()).toEqual(events.map((e) => e.id).sort());
      expect(idsOf(b.items).sort()).toEqual(events.map((e) => e.id).sort());
    });

    it('delivers an event once to a queue even when several of its bindings match', async () => {
      const inbox = new Watch<Received>();
      await consumeMine({ queue: queueName('multi'), bindings: ['sync.completed', 'sync.*', '#.completed'], prefetch: 1 }, inbox);
      const event = makeEnvelope('sync.completed');
      const sentinel = makeEnvelope('sync.completed');
      await publishMine([event, sentinel]);

      await inbox.until(hasAll([sentinel.id]), 'the sentinel');
      expect(idsOf(inbox.items)).toEqual([event.id, sentinel.id]);
    });
  });

  describe('competing consumers and prefetch', () => {
    it('shares one queue between competing consumers, each message handled exactly once', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('compete');
      const yieldThenAck: EventHandler = async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return ack;
      };
      await consumeMine({ queue, bindings: ['member.created'], prefetch: 1 }, inbox, yieldThenAck, 'c1');
      await consumeMine({ queue, bindings: ['member.created'], prefetch: 1 }, inbox, yieldThenAck, 'c2');
      const events = Array.from({ length: 30 }, () => makeEnvelope('member.created'));
      await publishMine(events);

      await inbox.until(hasAll(events.map((e) => e.id)), 'all 30 events');
      expect(idsOf(inbox.items).sort()).toEqual(events.map((e) => e.id).sort()); // no duplicates
      const byConsumer = (name: string) => inbox.items.filter((r) => r.consumer === name).length;
      expect(byConsumer('c1')).toBeGreaterThan(0);
      expect(byConsumer('c2')).toBeGreaterThan(0);
    });

    it('never has more deliveries in flight per consumer than its prefetch, and does reach it', async () => {
      const prefetch = 3;
      const inbox = new Watch<Received>();
      let inFlight = 0;
      let maxInFlight = 0;
      const full = gate();
      await consumeMine({ queue: queueName('prefetch'), bindings: ['member.profile.updated'], prefetch }, inbox, async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (inFlight === prefetch) full.open();
        // Hold every handler until the consumer is full: more than `prefetch` would show up here.
        await full.promise;
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return ack;
      });
      const events = Array.from({ length: 12 }, () => makeEnvelope('member.profile.updated'));
      await publishMine(events);

      await inbox.until(hasAll(events.map((e) => e.id)), 'all 12 events');
      expect(maxInFlight).toBe(prefetch);
    });
  });

  describe('retry and dead letters', () => {
    it('redelivers a retried message with an increasing attempt until the handler acks', async () => {
      const inbox = new Watch<Received>();
      const event = makeEnvelope('membership.renewed');
      await consumeMine({ queue: queueName('retry'), bindings: ['membership.renewed'], retryDelayMs: 10 }, inbox, async (_e, d) =>
        d.attempt < 3 ? retry(`not yet (${d.attempt})`) : ack,
      );
      await publishMine([event]);

      await settlements.until(settledAs(event.id, 'ack'), 'the ack on attempt 3');
      expect(inbox.items.map((r) => r.delivery.attempt)).toEqual([1, 2, 3]);
      expect(settlements.items.filter((s) => s.eventId === event.id).map((s) => [s.outcome, s.attempt])).toEqual([
        ['retry', 1],
        ['retry', 2],
        ['ack', 3],
      ]);
    });

    it('dead-letters a message after maxAttempts failed deliveries, keeping the last reason', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('exhaust');
      const event = makeEnvelope('membership.activated');
      await consumeMine({ queue, bindings: ['membership.activated'], maxAttempts: 3, retryDelayMs: 10 }, inbox, async (_e, d) =>
        retry(`crm down (attempt ${d.attempt})`),
      );
      await publishMine([event]);

      await settlements.until(settledAs(event.id, 'dead-letter'), 'the dead letter');
      expect(inbox.items.map((r) => r.delivery.attempt)).toEqual([1, 2, 3]);
      const count = await bus.deadLetterCount(queue);
      if (harness.isolated) expect(count).toBe(1);
      else expect(count).toBeGreaterThanOrEqual(1);
      const letters = await bus.peekDeadLetters(queue, 100);
      const letter = letters.find((l) => l.event.id === event.id);
      expect(letter).toMatchObject({ queue, attempts: 3, event: { id: event.id, type: 'membership.activated' } });
      expect(letter?.reason).toContain('crm down (attempt 3)');
      expect(Number.isNaN(Date.parse(letter?.deadLetteredAt ?? ''))).toBe(false);
      // Peeking keeps them.
      expect(await bus.deadLetterCount(queue)).toBe(count);
    });

    it('never dead-letters a message whose retries are transient (a backend outage), however many there are', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('outage');
      const event = makeEnvelope('membership.activated');
      await consumeMine({ queue, bindings: ['membership.activated'], maxAttempts: 2, retryDelayMs: 10 }, inbox, async () =>
        inbox.items.length <= 6 ? { kind: 'retry', reason: 'UNAVAILABLE: MongoDB is unavailable', transient: true } : ack,
      );
      await publishMine([event]);

      await settlements.until(settledAs(event.id, 'ack'), 'the ack once the outage is over');
      expect(inbox.items.map((r) => r.delivery.attempt)).toEqual([1, 1, 1, 1, 1, 1, 1]);
      expect(settlements.items.filter((s) => s.eventId === event.id).map((s) => s.outcome)).toEqual([...Array(6).fill('retry'), 'ack']);
      expect(await bus.deadLetterCount(queue)).toBe(0);
    });

    it('dead-letters at once on an explicit dead-letter outcome', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('poison');
      const event = makeEnvelope('member.created');
      await consumeMine({ queue, bindings: ['member.created'], maxAttempts: 5 }, inbox, async () => deadLetter('poison: unknown tier'));
      await publishMine([event]);

      await settlements.until(settledAs(event.id, 'dead-letter'), 'the dead letter');
      expect(inbox.items).toHaveLength(1);
      const letter = (await bus.peekDeadLetters(queue, 100)).find((l) => l.event.id === event.id);
      expect(letter).toMatchObject({ reason: 'poison: unknown tier', attempts: 1 });
    });

    it('counts a throwing handler as a retry, and dead-letters with the error once attempts run out', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('throw');
      const flaky = makeEnvelope('sync.completed');
      const broken = makeEnvelope('sync.completed');
      await consumeMine({ queue, bindings: ['sync.completed'], maxAttempts: 2, retryDelayMs: 10 }, inbox, async (event, d) => {
        if (event.id === broken.id || d.attempt === 1) throw new Error(`kaboom ${d.attempt}`);
        return ack;
      });
      await publishMine([flaky, broken]);

      await settlements.until(settledAs(flaky.id, 'ack'), 'the flaky event acked on attempt 2');
      await settlements.until(settledAs(broken.id, 'dead-letter'), 'the broken event dead-lettered');
      expect(inbox.items.filter((r) => r.event.id === flaky.id).map((r) => r.delivery.attempt)).toEqual([1, 2]);
      const letter = (await bus.peekDeadLetters(queue, 100)).find((l) => l.event.id === broken.id);
      expect(letter?.attempts).toBe(2);
      expect(letter?.reason).toContain('kaboom 2');
    });

    it('requeues one dead letter for a fresh round of attempts and discards another, leaving the rest', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('settle');
      const [first, second, third] = [makeEnvelope('member.created'), makeEnvelope('member.created'), makeEnvelope('member.created')];
      let healed = false;
      await consumeMine({ queue, bindings: ['member.created'], maxAttempts: 5 }, inbox, async () => (healed ? ack : deadLetter('poison: cannot handle it yet')));
      await publishMine([first, second, third]);
      for (const e of [first, second, third]) await settlements.until(settledAs(e.id, 'dead-letter'), `the dead letter of ${e.id}`);

      healed = true;
      const requeued = await bus.settleDeadLetter(queue, second.id, 'requeue');
      expect(requeued).toMatchObject({ queue, reason: 'poison: cannot handle it yet', event: { id: second.id } });
      await settlements.until(settledAs(second.id, 'ack'), 'the requeued event handled');
      expect(inbox.items.filter((r) => r.event.id === second.id).map((r) => r.delivery.attempt)).toEqual([1, 1]);

      expect(await bus.settleDeadLetter(queue, third.id, 'discard')).toMatchObject({ event: { id: third.id } });
      expect(await bus.settleDeadLetter(queue, third.id, 'discard')).toBeNull();
      const left = (await bus.peekDeadLetters(queue, 100)).map((l) => l.event.id);
      expect(left).toContain(first.id);
      expect(left).not.toContain(second.id);
      expect(left).not.toContain(third.id);
      if (harness.isolated) expect(await bus.deadLetterCount(queue)).toBe(1);
      expect(await bus.settleDeadLetter(queue, 'no-such-event', 'requeue')).toBeNull();
    });

    it('sends an invalid or unknown event straight to the dead-letter queue, never to the handler', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('invalid');
      await consumeMine({ queue, bindings: ['member.created', 'test.unknown'], maxAttempts: 5 }, inbox);
      const badPayload = makeInvalidEnvelope('member.created', { memberId: 'm-1', email: 'not-an-email' });
      const unknownType = makeInvalidEnvelope('test.unknown', { anything: true });
      const futureVersion = { ...makeEnvelope('member.created'), schemaVersion: 7 };
      const valid = makeEnvelope('member.created');
      await publishMine([badPayload, unknownType, futureVersion, valid]);

      for (const id of [badPayload.id, unknownType.id, futureVersion.id]) {
        await settlements.until(settledAs(id, 'dead-letter'), `the dead letter of ${id}`);
      }
      await inbox.until(hasAll([valid.id]), 'the valid event');
      expect(idsOf(inbox.items)).toEqual([valid.id]);
      const letters = await bus.peekDeadLetters(queue, 100);
      const reasonOf = (id: string) => letters.find((l) => l.event.id === id)?.reason ?? '(none)';
      expect(reasonOf(badPayload.id)).toMatch(/^INVALID_EVENT: .*email/);
      expect(reasonOf(unknownType.id)).toMatch(/^UNKNOWN_EVENT_TYPE: .*test\.unknown/);
      expect(reasonOf(futureVersion.id)).toMatch(/^INVALID_EVENT: .*v7/);
      if (harness.isolated) expect(await bus.deadLetterCount(queue)).toBe(3);
    });
  });

  describe('exclusive queues and closing', () => {
    it('removes an exclusive queue when its consumer closes', async () => {
      const inbox = new Watch<Received>();
      const queue = queueName('exclusive');
      const first = await consumeMine({ queue, bindings: ['member.profile.updated'], exclusive: true }, inbox);
      const before = makeEnvelope('member.profile.updated');
      await publishMine([before]);
      await inbox.until(hasAll([before.id]), 'the first event');
      await first.close();

      const whileGone = makeEnvelope('member.profile.updated');
      await publishMine([whileGone]);
      await consumeMine({ queue, bindings: ['member.profile.updated'], exclusive: true }, inbox);
      const after = makeEnvelope('member.profile.updated');
      await publishMine([after]);

      await inbox.until(hasAll([after.id]), 'the event after re-subscribing');
      expect(idsOf(inbox.items)).toEqual([before.id, after.id]);
    });

    it('waits for in-flight handlers when a consumer closes', async () => {
      const inbox = new Watch<Received>();
      const release = gate();
      let finished = false;
      const event = makeEnvelope('email.sent');
      const consumer = await consumeMine({ queue: queueName('drain'), bindings: ['email.sent'] }, inbox, async () => {
        await release.promise;
        finished = true;
        return ack;
      });
      await publishMine([event]);
      await inbox.until(hasAll([event.id]), 'the handler to start');

      let closed = false;
      const closing = consumer.close().then(() => (closed = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(false);
      release.open();
      await closing;
      expect(finished).toBe(true);
      expect(settlements.items.some((s) => s.eventId === event.id && s.outcome === 'ack')).toBe(true);
    });

    it('waits for in-flight handlers when the bus closes, then refuses to publish', async () => {
      const inbox = new Watch<Received>();
      const release = gate();
      let finished = false;
      const event = makeEnvelope('email.sent');
      await consumeMine({ queue: queueName('bus-drain'), bindings: ['email.sent'] }, inbox, async () => {
        await release.promise;
        finished = true;
        return ack;
      });
      await publishMine([event]);
      await inbox.until(hasAll([event.id]), 'the handler to start');

      const closing = bus.close();
      release.open();
      await closing;
      expect(finished).toBe(true);
      await expect(bus.publish([makeEnvelope('email.sent')])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });

    it('refuses consume options that cannot work', async () => {
      const handler: EventHandler = async () => ack;
      await expect(bus.consume({ queue: queueName('bad'), bindings: ['member.*'], prefetch: 0 }, handler)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
      await expect(bus.consume({ queue: queueName('bad'), bindings: ['member..created'] }, handler)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
      await expect(bus.consume({ queue: queueName('bad'), bindings: [] }, handler)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    });
  });

  describe('temporary topics (replays)', () => {
    const topicName = () => `test.topic.${randomUUID().slice(0, 8)}`;
    const topics = () => {
      if (!hasTemporaryTopics(bus)) throw new Error('every adapter must offer temporary topics');
      return bus;
    };

    it('routes a topic\'s events to its own queues only, and live events never to them', async () => {
      const topic = topicName();
      await topics().createTopic(topic);
      const onTopic = new Watch<Received>();
      const live = new Watch<Received>();
      await consumeMine({ queue: queueName('topic'), bindings: ['member.created'], topic }, onTopic);
      await consumeMine({ queue: queueName('live'), bindings: ['member.created'] }, live);
      const replayed = makeEnvelope('member.created', undefined, {
        metadata: { replay: true, replayInfo: { replayId: 'r-1', originalPosition: 7 } },
      });
      const liveEvent = makeEnvelope('member.created');
      for (const event of [replayed, liveEvent]) mine.add(event.id);
      await bus.publish([replayed], { topic });
      await bus.publish([liveEvent]);

      await onTopic.until(hasAll([replayed.id]), 'the replayed event on the topic queue');
      await live.until(hasAll([liveEvent.id]), 'the live event on the live queue');
      expect(idsOf(onTopic.items)).toEqual([replayed.id]);
      expect(onTopic.items[0]?.event.metadata).toEqual({ replay: true, replayInfo: { replayId: 'r-1', originalPosition: 7 } });
      expect(idsOf(live.items)).toEqual([liveEvent.id]);
      await topics().deleteTopic(topic);
    });

    it('refuses to publish or consume on a topic that was not created, or on a reserved name', async () => {
      await expect(bus.consume({ queue: queueName('nope'), bindings: ['member.*'], topic: 'events' }, async () => ack)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
      await expect(topics().createTopic('amq.topic')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    });

    it('deletes the topic with its queues, keeping dead letters readable', async () => {
      const topic = topicName();
      await topics().createTopic(topic);
      const failing = queueName('topic-dlq');
      const fine = queueName('topic-ok');
      const inbox = new Watch<Received>();
      const bad = makeEnvelope('email.sent');
      const good = makeEnvelope('email.sent');
      await consumeMine({ queue: failing, bindings: ['email.sent'], topic }, inbox, async (event) =>
        event.id === bad.id ? deadLetter('cannot rebuild this one') : ack,
      );
      await consumeMine({ queue: fine, bindings: ['email.sent'], topic }, inbox);
      for (const event of [bad, good]) mine.add(event.id);
      await bus.publish([bad, good], { topic });
      await settlements.until(settledAs(bad.id, 'dead-letter'), 'the dead letter');
      await settlements.until((items) => items.filter((s) => s.eventId === good.id && s.outcome === 'ack').length === 2, 'both acks of the good one');

      const deletion = await topics().deleteTopic(topic);
      expect([...deletion.queues].sort()).toEqual([failing, fine].sort());
      expect(deletion.deadLettersKept).toBe(1);
      expect(await bus.deadLetterCount(failing)).toBe(1);
      const [letter] = await bus.peekDeadLetters(failing, 10);
      expect(letter?.reason).toBe('cannot rebuild this one');
      expect(await bus.deadLetterCount(fine)).toBe(0);
      await expect(bus.publish([makeEnvelope('email.sent')], { topic })).rejects.toBeDefined();
    });

    it('carries a batch as one message: events in order, each settled on its own (retried alone, dead-lettered alone)', async () => {
      const topic = topicName();
      await topics().createTopic(topic);
      const queue = queueName('batches');
      const events = Array.from({ length: 5 }, () => makeEnvelope('member.profile.updated'));
      const [, flaky, , bad] = events;
      for (const event of events) mine.add(event.id);
      const calls: { ids: string[]; attempt: number }[] = [];
      await topics().consumeBatches({ queue, bindings: ['batch.target'], topic, prefetch: 5, concurrency: 1, maxAttempts: 3, retryDelayMs: 10 }, async (batch, delivery) => {
        calls.push({ ids: batch.map((e) => e.id), attempt: delivery.attempt });
        return batch.map((e) => (e.id === bad?.id ? deadLetter('cannot rebuild') : e.id === flaky?.id && delivery.attempt === 1 ? retry('not yet') : ack));
      });
      // Another routing key on the same topic does not reach the queue.
      await topics().publishBatch([makeEnvelope('member.created')], { topic, routingKey: 'batch.other' });
      await topics().publishBatch(events, { topic, routingKey: 'batch.target' });

      await settlements.until(settledAs(flaky!.id, 'ack'), 'the retried event acked on its second attempt');
      await settlements.until(settledAs(bad!.id, 'dead-letter'), 'the dead letter');
      expect(calls).toEqual([
        { ids: events.map((e) => e.id), attempt: 1 },
        { ids: [flaky!.id], attempt: 2 },
      ]);
      const mineSettled = settlements.items.filter((s) => mine.has(s.eventId));
      expect(mineSettled.filter((s) => s.outcome === 'ack').map((s) => s.eventId).sort()).toEqual(
        events.filter((e) => e !== bad).map((e) => e.id).sort(),
      );
      expect(mineSettled.filter((s) => s.outcome === 'retry').map((s) => s.eventId)).toEqual([flaky!.id]);
      const [letter] = await bus.peekDeadLetters(queue, 10);
      expect(letter).toMatchObject({ reason: 'cannot rebuild', event: { id: bad!.id } });
      expect(await bus.deadLetterCount(queue)).toBe(1);
      await topics().deleteTopic(topic);
    });

    it('retries every event of a batch whose handler throws', async () => {
      const topic = topicName();
      await topics().createTopic(topic);
      const events = Array.from({ length: 3 }, () => makeEnvelope('member.created'));
      for (const event of events) mine.add(event.id);
      const seen = new Watch<string>();
      await topics().consumeBatches({ queue: queueName('throwing'), bindings: ['batch.t'], topic, maxAttempts: 2, retryDelayMs: 10 }, async (batch, delivery) => {
        if (delivery.attempt === 1) throw new Error('store down');
        for (const e of batch) seen.push(e.id);
        return batch.map(() => ack);
      });
      await topics().publishBatch(events, { topic, routingKey: 'batch.t' });
      await seen.until((ids) => events.every((e) => ids.includes(e.id)), 'each event again, alone');
      expect(settlements.items.filter((s) => mine.has(s.eventId) && s.outcome === 'retry')).toHaveLength(3);
      await topics().deleteTopic(topic);
    });

    it('runs one handler at a time with concurrency 1, in order, while prefetching more', async () => {
      const topic = topicName();
      await topics().createTopic(topic);
      const inbox = new Watch<Received>();
      let running = 0;
      let most = 0;
      await consumeMine({ queue: queueName('serial'), bindings: ['member.#'], topic, prefetch: 50, concurrency: 1 }, inbox, async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return ack;
      });
      const events = Array.from({ length: 30 }, () => makeEnvelope('member.profile.updated'));
      for (const event of events) mine.add(event.id);
      await bus.publish(events, { topic });
      await inbox.until(hasAll(events.map((e) => e.id)), 'all 30 events');
      expect(idsOf(inbox.items)).toEqual(events.map((e) => e.id));
      expect(most).toBe(1);
      await topics().deleteTopic(topic);
    });
  });
}
