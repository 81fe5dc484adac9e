// The window of a store's latest appends that serves reads of the log's tail (recent-events.ts).
import { RecentEvents } from '../../messaging/store/recent-events';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';

interface Row {
  readonly position: number;
  readonly type: string;
}

function window(capacity: number) {
  const built: number[] = [];
  const recent = new RecentEvents<Row>(capacity, (row) => {
    built.push(row.position);
    return { position: row.position, type: row.type, payload: { nested: { value: row.position } } } as unknown as AnyEventEnvelope;
  });
  const add = (...positions: number[]) => recent.add(positions.map((position) => ({ position, row: { position, type: position % 2 ? 'odd' : 'even' } })));
  return { recent, built, add };
}

const all = () => true;
const positions = (events: readonly AnyEventEnvelope[] | null) => events?.map((e) => e.position) ?? null;

describe('RecentEvents', () => {
  it('serves a range only when it holds every position of it', () => {
    const { recent, add } = window(10);
    add(3, 4, 5, 7);
    expect(positions(recent.range(2, 5, all))).toEqual([3, 4, 5]);
    expect(positions(recent.range(4, 5, all))).toEqual([5]);
    // 6 is missing (another process appended it): the caller must read the database.
    expect(recent.range(4, 7, all)).toBeNull();
    // 2 was never held.
    expect(recent.range(1, 5, all)).toBeNull();
    expect(recent.range(5, 5, all)).toEqual([]);
  });

  it('filters without losing the completeness check', () => {
    const { recent, add } = window(10);
    add(1, 2, 3, 4);
    expect(positions(recent.range(0, 4, (e) => (e.type as string) === 'even'))).toEqual([2, 4]);
    expect(positions(recent.range(2, 3, (e) => (e.type as string) === 'even'))).toEqual([]);
  });

  it('forgets the oldest past its capacity', () => {
    const { recent, add } = window(3);
    add(1, 2, 3);
    add(4, 5);
    expect(recent.size).toBe(3);
    expect(recent.range(0, 5, all)).toBeNull();
    expect(positions(recent.range(2, 5, all))).toEqual([3, 4, 5]);
  });

  it('builds each envelope once, on first read, and hands out the same frozen object', () => {
    const { recent, built, add } = window(10);
    add(1, 2, 3);
    expect(built).toEqual([]);
    const first = recent.range(0, 2, all) ?? [];
    const again = recent.range(0, 3, all) ?? [];
    expect(built).toEqual([1, 2, 3]);
    expect(again[0]).toBe(first[0]);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(() => {
      (first[0]?.payload as unknown as { nested: { value: number } }).nested.value = 99;
    }).toThrow(TypeError);
  });

  it('keeps the first row added at a position', () => {
    const { recent } = window(10);
    recent.add([{ position: 1, row: { position: 1, type: 'kept' } }]);
    recent.add([{ position: 1, row: { position: 1, type: 'ignored' } }]);
    expect(recent.range(0, 1, all)?.[0]?.type).toBe('kept');
  });
});
