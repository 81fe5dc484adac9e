// Timers for the gateway's token-expiry checks that fire only when a test says so: `pending` holds
// the armed callbacks in arming order; calling one is the timer going off.
import type { Timers } from '../../../platform/clock';

export function manualTimers(): { timers: Timers; pending: (() => void)[] } {
  const pending: (() => void)[] = [];
  const timers: Timers = {
    setTimeout: (callback) => {
      pending.push(callback);
      return callback;
    },
    clearTimeout: (handle) => {
      const index = pending.indexOf(handle as () => void);
      if (index >= 0) pending.splice(index, 1);
    },
  };
  return { timers, pending };
}
