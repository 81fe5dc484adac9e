// Benchmark: activity events through the stream processor core in process — 5-minute windows per
// member, watermark, engagement, risk and the four CEP rules — with 100,000 members. Goal: at least
// 50,000 events/s. Reports outputs and memory (heap after the run, with the state still held).
//   node dist/bench/analytics-throughput.js [--events 1000000] [--members 100000] [--minutes 60]
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Facts } from '../subgraphs/analytics/domain/cep-engine';
import { defaultRules } from '../subgraphs/analytics/domain/cep-rules';
import { ProcessorSink, StreamProcessor, type ActivityInputType, type ProcessorInput } from '../subgraphs/analytics/domain/stream-processor';
import { machine, numberArg, runAsMain } from './report';

export interface AnalyticsBenchOptions {
  readonly events: number;
  readonly members: number;
  /** Event time the events span: how many windows close during the run. */
  readonly minutes: number;
}

const types: readonly ActivityInputType[] = [
  'member.login',
  'member.login',
  'member.profile.viewed',
  'member.profile.viewed',
  'course.started',
  'course.completed',
  'support.ticket.opened',
  'payment.completed',
  'payment.failed',
];
const places = ['Berlin', 'Paris', 'Lagos', 'Lima', 'Oslo'];

/** A deterministic pseudo-random stream (xorshift), so every run sees the same events. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** A full collection before each memory reading, so the numbers are live data, not garbage. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose_gc');
  (vm.runInNewContext('gc') as () => void)();
}

function makeInputs(options: AnalyticsBenchOptions): ProcessorInput[] {
  const next = random(42);
  const start = Date.parse('2025-01-15T00:00:00.000Z');
  const span = options.minutes * 60_000;
  const inputs: ProcessorInput[] = new Array(options.events);
  for (let i = 0; i < options.events; i++) {
    const type = types[Math.floor(next() * types.length)] as ActivityInputType;
    const memberId = `m${Math.floor(next() * options.members)}`;
    // Mostly in order, some up to 20 s out of order (within the 30 s allowance).
    const time = start + Math.floor((i / options.events) * span) - Math.floor(next() * 20_000);
    const facts: Facts =
      type === 'member.login'
        ? { memberId, location: places[Math.floor(next() * places.length)] as string }
        : type === 'payment.completed'
          ? { memberId, amountCents: 1_000 + Math.floor(next() * 20_000) }
          : { memberId };
    inputs[i] = { kind: 'activity', id: `e${i}`, type, memberId, time, position: i + 1, facts };
  }
  return inputs;
}

export function runAnalyticsThroughput(options: AnalyticsBenchOptions) {
  const inputs = makeInputs(options);
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const processor = new StreamProcessor({ allowedLatenessMs: 30_000, rules: defaultRules });
  const sink = new ProcessorSink();
  const outputs: Record<string, number> = {};
  let late = 0;
  const count = () => {
    for (const e of sink.emits) outputs[e.event.type] = (outputs[e.event.type] ?? 0) + 1;
    late += sink.late.length;
    sink.clear();
  };
  const t0 = performance.now();
  for (let i = 0; i < inputs.length; i++) {
    processor.process(inputs[i] as ProcessorInput, sink);
    if ((i & 1023) === 0) count();
  }
  // Close what is still open, as processing time would.
  processor.process({ kind: 'tick', id: 'final', at: Date.parse('2025-01-15T00:00:00.000Z') + options.minutes * 60_000 + 3_600_000, position: inputs.length + 1 }, sink);
  count();
  const seconds = (performance.now() - t0) / 1000;
  collectGarbage();
  const memory = process.memoryUsage();
  const stats = processor.stats();
  return {
    benchmark: 'analytics-throughput',
    machine: machine(),
    events: options.events,
    members: options.members,
    eventTimeMinutes: options.minutes,
    seconds: Math.round(seconds * 100) / 100,
    eventsPerSecond: Math.round(options.events / seconds),
    goalEventsPerSecond: 50_000,
    outputs,
    lateEvents: late,
    membersWithState: stats.members,
    memoryMiB: {
      heapUsed: Math.round(memory.heapUsed / 2 ** 20),
      /** Heap held by the processor after the run: 100,000 members' scores, places and rule state. */
      processorState: Math.round((memory.heapUsed - heapBefore) / 2 ** 20),
      rss: Math.round(memory.rss / 2 ** 20),
    },
  };
}

if (require.main === module) {
  runAsMain(async () => runAnalyticsThroughput({ events: numberArg('events', 1_000_000), members: numberArg('members', 100_000), minutes: numberArg('minutes', 60) }));
}
