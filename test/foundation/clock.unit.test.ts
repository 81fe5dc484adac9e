// The test clock's timers go off as its time passes their deadlines, each at its own time.
import { ManualClock } from '../../platform/clock';

describe('ManualClock timers', () => {
  it('fires a timer once its time has come, not before', () => {
    const clock = new ManualClock('2025-01-15T00:00:00.000Z');
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(clock.now().toISOString()), 1000);
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['2025-01-15T00:00:01.000Z']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires due timers earliest first, each seeing its own time, including ones armed on the way', () => {
    const clock = new ManualClock('2025-01-15T00:00:00.000Z');
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b ${clock.now().toISOString()}`), 300);
    clock.setTimeout(() => {
      fired.push(`a ${clock.now().toISOString()}`);
      clock.setTimeout(() => fired.push(`c ${clock.now().toISOString()}`), 500);
    }, 100);
    clock.set('2025-01-15T00:00:01.000Z');
    expect(fired).toEqual(['a 2025-01-15T00:00:00.100Z', 'b 2025-01-15T00:00:00.300Z', 'c 2025-01-15T00:00:00.600Z']);
    expect(clock.now().toISOString()).toBe('2025-01-15T00:00:01.000Z');
  });

  it('never fires a cleared timer', () => {
    const clock = new ManualClock();
    const handle = clock.setTimeout(() => {
      throw new Error('cleared timer fired');
    }, 10);
    clock.clearTimeout(handle);
    clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
  });
});
