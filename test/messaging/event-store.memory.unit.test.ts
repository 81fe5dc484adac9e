// The in-memory EventStore against the shared contract, plus what only it promises (frozen envelopes out).
import { ManualClock } from '../../platform/clock';
import { createEventStore } from '../../messaging/store/create-event-store';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { eventStoreContract } from '../contracts/event-store.contract';

describe('MemoryEventStore (contract)', () => {
  eventStoreContract({ create: (clock) => createEventStore({ kind: 'memory' }, clock) });
});

describe('MemoryEventStore', () => {
  it('hands out frozen envelopes, so nobody can change what is stored', async () => {
    const store = new MemoryEventStore(new ManualClock());
    const payload = { memberId: 'a', tier: 'vip' as const, expiresAt: '2026-01-01T00:00:00.000Z' };
    const { events } = await store.append('member-a', [{ type: 'membership.renewed', payload }], { expectedVersion: 0, context: { correlationId: 'c' } });
    // The caller's own object stays the caller's: the store kept a copy.
    payload.tier = 'basic' as 'vip';
    expect(() => {
      (events[0]?.payload as { tier: string }).tier = 'basic';
    }).toThrow(TypeError);
    const [read] = await store.readStream('member-a');
    expect(() => {
      (read?.metadata as { replay: boolean }).replay = true;
    }).toThrow(TypeError);
    const [batch] = await collect(store.readAll());
    expect(() => {
      (batch?.[0] as { type: string }).type = 'member.created';
    }).toThrow(TypeError);
    expect((await store.readStream('member-a'))[0]).toMatchObject({ type: 'membership.renewed', payload: { tier: 'vip' }, metadata: { replay: false } });
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
