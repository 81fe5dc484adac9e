// The pure merge behind resumable subscriptions: replayed + live events, no gap, no duplicate.
import fc from 'fast-check';
import { ResumeMerge, type MergeOutput } from '../../messaging/live/resume-merge';
import { parseCursor } from '../../platform/subscription-protocol';

const e = (position: number) => ({ position });
const delivered = (output: MergeOutput<{ position: number }>) => {
  if (output.kind !== 'deliver') throw new Error('unexpected overflow');
  return output.events.map((x) => x.position);
};

describe('ResumeMerge', () => {
  it('passes live events straight through when started without a cursor', () => {
    const merge = new ResumeMerge(null, 10);
    expect(delivered(merge.live(e(3)))).toEqual([3]);
    expect(delivered(merge.live(e(5)))).toEqual([5]);
  });

  it('holds live events during the replay and releases only the ones the replay did not cover', () => {
    const merge = new ResumeMerge(2, 10);
    expect(delivered(merge.live(e(5)))).toEqual([]);
    expect(delivered(merge.replayed(e(3)))).toEqual([3]);
    expect(delivered(merge.live(e(6)))).toEqual([]);
    expect(delivered(merge.replayed(e(5)))).toEqual([5]);
    expect(delivered(merge.caughtUp())).toEqual([6]);
    expect(delivered(merge.live(e(6)))).toEqual([]);
    expect(delivered(merge.live(e(7)))).toEqual([7]);
  });

  it('never delivers a position at or before the cursor', () => {
    const merge = new ResumeMerge(4, 10);
    expect(delivered(merge.replayed(e(4)))).toEqual([]);
    expect(delivered(merge.live(e(3)))).toEqual([]);
    expect(delivered(merge.caughtUp())).toEqual([]);
  });

  it('overflows when more live events arrive during the replay than it may hold', () => {
    const merge = new ResumeMerge(0, 2);
    merge.live(e(1));
    merge.live(e(2));
    expect(merge.live(e(3)).kind).toBe('overflow');
  });

  it('delivers every position after the cursor exactly once, in order, however replay and live interleave', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
        (cursor, total, storedAtRead, coin) => {
          // Events 1..total; the store read sees those up to storedAtRead; every event after the
          // listener started arrives live too (those stored before the read may also arrive live).
          const head = Math.min(storedAtRead, total);
          const replay = Array.from({ length: head }, (_, i) => i + 1).filter((p) => p > cursor);
          const live = Array.from({ length: total }, (_, i) => i + 1).filter((p) => p > Math.max(cursor, head - 3));
          const merge = new ResumeMerge(cursor, 1000);
          const out: number[] = [];
          let r = 0;
          let l = 0;
          let step = 0;
          while (r < replay.length) {
            if (coin[step++ % coin.length] && l < live.length) out.push(...delivered(merge.live(e(live[l++] as number))));
            else out.push(...delivered(merge.replayed(e(replay[r++] as number))));
          }
          out.push(...delivered(merge.caughtUp()));
          while (l < live.length) out.push(...delivered(merge.live(e(live[l++] as number))));
          const expected = Array.from({ length: total }, (_, i) => i + 1).filter((p) => p > cursor);
          expect(out).toEqual(expected);
        },
      ),
    );
  });
});

describe('parseCursor', () => {
  it('reads absent cursors as null and decimal positions as numbers', () => {
    expect(parseCursor(undefined)).toBeNull();
    expect(parseCursor('')).toBeNull();
    expect(parseCursor('42')).toBe(42);
    expect(parseCursor(7)).toBe(7);
  });

  it('refuses anything else with a message saying what to pass', () => {
    expect(() => parseCursor('abc')).toThrow(/extensions\.cursor/);
    expect(() => parseCursor(-1)).toThrow();
    expect(() => parseCursor({})).toThrow();
  });
});
