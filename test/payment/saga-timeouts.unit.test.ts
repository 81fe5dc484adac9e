// The saga timeout scanner through a MongoDB outage: one line when scans start failing and one when
// they work again, however many interval ticks pass meanwhile (it used to warn on every tick, and
// once more for each tick that joined a running scan). Jest's fake timers fire the interval.
import { ManualClock } from '../../platform/clock';
import { UnavailableError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { DocumentCollection } from '../../messaging/state/document-store';
import type { OrderView } from '../../subgraphs/payment/domain/read-models';
import type { OrderSagaRunner } from '../../subgraphs/payment/saga/saga-runner';
import { SagaTimeoutScanner } from '../../subgraphs/payment/saga/saga-timeouts';
import type { WorkerDowntime } from '../../subgraphs/payment/saga/worker-downtime';

interface Line {
  readonly level: string;
  readonly msg: string;
}

function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (_fields: unknown, msg: string) => lines.push({ level, msg });
  return { warn: at('warn'), info: at('info'), debug: at('debug'), error: at('error') } as unknown as Logger;
}

const overdueOrder = { id: 'o1', open: true, deadlineAt: '2025-01-15T08:00:00.000Z', version: 3, correlationId: 'c1' } as OrderView;

describe('SagaTimeoutScanner', () => {
  let lines: Line[];
  let find: jest.Mock;
  let apply: jest.Mock;
  let scanner: SagaTimeoutScanner;

  beforeEach(() => {
    jest.useFakeTimers();
    lines = [];
    find = jest.fn(async () => []);
    apply = jest.fn(async () => undefined);
    scanner = new SagaTimeoutScanner(
      { apply, applyRecordedReplies: async () => 0 } as unknown as OrderSagaRunner,
      { find } as unknown as DocumentCollection<OrderView>,
      new ManualClock('2025-01-15T09:00:00.000Z'),
      recordingLogger(lines),
      { intervalMs: 1000, stepTimeoutMs: 30_000, downtime: { beat: async () => [] } as unknown as WorkerDowntime },
    );
    scanner.start();
  });

  afterEach(async () => {
    await scanner.stop();
    jest.useRealTimers();
  });

  const noisy = () => lines.filter((l) => l.level !== 'debug').map((l) => `${l.level}: ${l.msg}`);

  it('logs a 90-second MongoDB outage once as it starts and once as it ends, with no warning', async () => {
    await jest.advanceTimersByTimeAsync(5000);
    find.mockImplementation(async () => {
      throw new UnavailableError('MongoDB');
    });
    await jest.advanceTimersByTimeAsync(90_000);
    expect(find.mock.calls.length).toBeGreaterThanOrEqual(90);
    find.mockImplementation(async () => []);
    await jest.advanceTimersByTimeAsync(5000);
    expect(noisy()).toEqual([
      'info: saga timeout scan failed; retrying (logged again when it works)',
      'info: saga timeout scan works again',
    ]);
  });

  it('warns once about a failure that is not an outage, and says when it stops', async () => {
    find.mockImplementation(async () => {
      throw new TypeError('a bug');
    });
    await jest.advanceTimersByTimeAsync(30_000);
    find.mockImplementation(async () => []);
    await jest.advanceTimersByTimeAsync(1000);
    expect(noisy()).toEqual(['warn: saga timeout scan failed; retrying (logged again when it works)', 'info: saga timeout scan works again']);
  });

  it('lets ticks during a slow scan skip instead of each adding its own report', async () => {
    let finish!: () => void;
    find.mockImplementation(
      () =>
        new Promise((_resolve, reject) => {
          finish = () => reject(new UnavailableError('MongoDB'));
        }),
    );
    await jest.advanceTimersByTimeAsync(30_000); // 30 ticks, one scan
    expect(find).toHaveBeenCalledTimes(1);
    finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(noisy()).toEqual(['info: saga timeout scan failed; retrying (logged again when it works)']);
  });

  it("logs an order whose timeout keeps failing once, while the scans themselves work", async () => {
    find.mockImplementation(async () => [overdueOrder]);
    apply.mockImplementation(async () => {
      throw new TypeError('a bug in the saga');
    });
    await jest.advanceTimersByTimeAsync(20_000);
    expect(apply.mock.calls.length).toBeGreaterThanOrEqual(20);
    expect(noisy()).toEqual(['warn: saga timeout of order o1 failed; retrying (logged again when it works)']);
  });
});
