// Pure rules of replays: progress figures and the throttle that keeps a fast replay from flooding clients.
import { ProgressThrottle, progressOf } from '../../messaging/replay/replay-model';
import { ManualClock } from '../../platform/clock';

describe('replay progress', () => {
  it('reports at most one update per interval of the injected clock, and always when forced', () => {
    const clock = new ManualClock();
    const throttle = new ProgressThrottle(250, () => clock.now());
    expect(throttle.due()).toBe(true);
    expect(throttle.due()).toBe(false);
    clock.advance(249);
    expect(throttle.due()).toBe(false);
    clock.advance(1);
    expect(throttle.due()).toBe(true);
    expect(throttle.due(true)).toBe(true);
    // 10,000 settles within one interval make one report.
    clock.advance(250);
    let reports = 0;
    for (let i = 0; i < 10_000; i++) if (throttle.due()) reports++;
    expect(reports).toBe(1);
  });

  it('sums targets, and derives rate and time left from the elapsed time', () => {
    const targets = [
      { name: 'crm', kind: 'consumer' as const, total: 100, processed: 50, errors: 1, deadLetterQueue: 'q' },
      { name: 'email', kind: 'consumer' as const, total: 100, processed: 30, errors: 0, deadLetterQueue: null },
    ];
    expect(progressOf(targets, 2000)).toMatchObject({ processed: 80, total: 200, errors: 1, ratePerSecond: 40, estimatedSecondsLeft: 3 });
    expect(progressOf(targets, 0)).toMatchObject({ ratePerSecond: 0, estimatedSecondsLeft: null });
  });
});
