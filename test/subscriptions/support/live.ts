// Waiting until a subscription is live end to end, without guessing a delay: emit warm-up events
// for its member until one arrives, then drain the rest of the warm-up.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { Harness } from './harness';
import type { Collector } from './ws-client';

/** Returns the last warm-up event (its position is the subscription's current cursor). */
export async function waitUntilLive(harness: Harness, id: string, sub: Collector, gateway = 0): Promise<AnyEventEnvelope> {
  void gateway;
  const emitted: AnyEventEnvelope[] = [];
  for (let attempt = 1; attempt <= 100; attempt++) {
    emitted.push(await harness.emit(id, 'member.created'));
    const first = await sub.poll(50);
    if (!first) continue;
    if (first.kind !== 'next') throw new Error(`subscription failed while warming up: ${JSON.stringify(first)}`);
    // Every later warm-up event will arrive too: take them so the test starts from a clean slate.
    let cursor = first.cursor;
    const last = emitted[emitted.length - 1] as AnyEventEnvelope;
    while (cursor !== String(last.position)) {
      const next = await sub.takeNext('the rest of the warm-up');
      cursor = next.cursor;
    }
    return last;
  }
  throw new Error('the subscription never went live (no warm-up event arrived in 100 tries)');
}

/** The cursors of the next `count` results of a subscription, in order. */
export async function cursorsOf(sub: Collector, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(String((await sub.takeNext(`event ${i + 1} of ${count}`)).cursor));
  return out;
}
