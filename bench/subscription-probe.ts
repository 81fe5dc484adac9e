// Preloaded (`node --require`) into each gateway process the subscription benchmark starts, ours and
// Hive's alike: answers the parent's IPC request for the process's memory, after a full GC when the
// process runs with --expose-gc, so both gateways are measured the same way without their help.

export interface MemoryRequest {
  readonly type: 'bench:memory';
  readonly id: number;
}

export interface MemoryReply {
  readonly type: 'bench:memory';
  readonly id: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

function isMemoryRequest(message: unknown): message is MemoryRequest {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'bench:memory';
}

if (process.send) {
  process.on('message', (message: unknown) => {
    if (!isMemoryRequest(message)) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    // Twice: the first pass may only finalise what the second frees.
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    const reply: MemoryReply = {
      type: 'bench:memory',
      id: message.id,
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
    };
    process.send?.(reply);
  });
  // The IPC channel must not keep a gateway alive on its own once the parent is gone.
  process.channel?.unref();
  process.on('disconnect', () => process.exit(0));
}
