// The in-memory EventStore against the shared contract, plus what only it promises (copies out).
import { ManualClock } from '../../platform/clock';
import { createEventStore } from '../../messaging/store/create-event-store';
import { MemoryEventStore } from '../../messaging/store/memory-event-store';
import { eventStoreContract } from '../contracts/event-store.contract';

describe('MemoryEventStore (contract)', () => {
  eventStoreContract({ create: (clock) => createEventStore({ kind: 'memory' }, clock) });
});

describe('MemoryEventStore', () => {
  it('hands out copies, so changing a returned envelope does not change the store', async () => {
    const store = new MemoryEventStore(new ManualClock());
    const { events } = await store.append(
      'member-a',
      [{ type: 'membership.renewed', payload: { memberId: 'a', tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z' } }],
      { expectedVersion: 0, context: { correlationId: 'c' } },
    );
    (events[0]?.payload as { tier: string }).tier = 'basic';
    const [read] = await store.readStream('member-a');
    (read?.metadata as { replay: boolean }).replay = true;
    expect((await store.readStream('member-a'))[0]).toMatchObject({ payload: { tier: 'vip' }, metadata: { replay: false } });
  });
});
