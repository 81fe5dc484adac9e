// Calls to the payment gateway retry its transient errors with a doubling wait, and only those.
import { withBackoff } from '../../subgraphs/payment/domain/payment-service';
import { TransientGatewayError } from '../../subgraphs/payment/domain/payment-gateway';

/** A call failing transiently `failures` times, then answering; `calls` counts the calls. */
function flaky(failures: number) {
  const counter = { calls: 0 };
  const call = async () => {
    counter.calls++;
    if (counter.calls <= failures) throw new TransientGatewayError(`gateway timeout ${counter.calls}`);
    return 'charged';
  };
  return { call, counter };
}

describe('gateway retries', () => {
  it('retries a transient error until the call succeeds', async () => {
    const { call, counter } = flaky(3);
    await expect(withBackoff({ attempts: 4, initialDelayMs: 0 }, call)).resolves.toBe('charged');
    expect(counter.calls).toBe(4);
  });

  it('waits twice as long before each retry', async () => {
    jest.useFakeTimers();
    try {
      let calls = 0;
      const done = withBackoff({ attempts: 3, initialDelayMs: 20 }, async () => {
        if (++calls < 3) throw new TransientGatewayError('gateway timeout');
        return 'charged';
      });
      await jest.advanceTimersByTimeAsync(19);
      expect(calls).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(39);
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(3);
      await expect(done).resolves.toBe('charged');
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives UNAVAILABLE with the last error after the last attempt', async () => {
    const { call, counter } = flaky(10);
    await expect(withBackoff({ attempts: 4, initialDelayMs: 0 }, call)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'Payment gateway unavailable after 4 attempts: gateway timeout 4',
    });
    expect(counter.calls).toBe(4);
  });

  it('passes any other error through at once', async () => {
    let calls = 0;
    const refused = new Error('card token unknown');
    await expect(
      withBackoff({ attempts: 4, initialDelayMs: 0 }, async () => {
        calls++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});
