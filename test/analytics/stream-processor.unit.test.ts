// The stream processor core: window boundaries, watermark and lateness, engagement and risk, and
// determinism, driven by hand-made inputs with explicit event times.
import { ProcessorSink, StreamProcessor, type ActivityInputType, type ProcessorEmit, type ProcessorInput } from '../../subgraphs/analytics/domain/stream-processor';
import { defaultRules } from '../../subgraphs/analytics/domain/cep-rules';
import type { FactValue } from '../../subgraphs/analytics/domain/cep-rules';

const T0 = Date.parse('2025-01-15T10:00:00.000Z');
const s = (seconds: number) => T0 + seconds * 1000;

function feeder(lateness = 30_000) {
  const processor = new StreamProcessor({ allowedLatenessMs: lateness, rules: defaultRules });
  const sink = new ProcessorSink();
  let position = 0;
  return {
    processor,
    sink,
    act(type: ActivityInputType, memberId: string, time: number, facts: Record<string, FactValue> = {}): void {
      position++;
      processor.process({ kind: 'activity', id: `e${position}`, type, memberId, time, position, facts: { memberId, ...facts } }, sink);
    },
    tick(at: number): void {
      position++;
      processor.process({ kind: 'tick', id: `t${position}`, at, position }, sink);
    },
    of(type: string): ProcessorEmit['event'][] {
      return sink.emits.map((e) => e.event).filter((e) => e.type === type);
    },
  };
}

type Summary = Extract<ProcessorEmit['event'], { type: 'member.activity.summary' }>;

describe('stream processor windows', () => {
  it('puts events into 5-minute tumbling windows on event time, boundaries included in the next window', () => {
    const f = feeder(0);
    f.act('member.login', 'm1', s(0));
    f.act('course.started', 'm1', s(299.999));
    f.act('course.completed', 'm1', s(300));
    expect(f.of('member.activity.summary')).toHaveLength(1);
    const first = f.of('member.activity.summary')[0] as Summary;
    expect(first.payload).toMatchObject({ windowStart: '2025-01-15T10:00:00.000Z', windowEnd: '2025-01-15T10:05:00.000Z', total: 2 });
    expect(first.payload.counts).toMatchObject({ logins: 1, coursesStarted: 1, coursesCompleted: 0 });
    f.tick(s(600));
    const second = f.of('member.activity.summary')[1] as Summary;
    expect(second.payload).toMatchObject({ windowStart: '2025-01-15T10:05:00.000Z', total: 1 });
  });

  it('keeps a window open until the watermark (newest time minus the allowed lateness) passes its end', () => {
    const f = feeder(30_000);
    f.act('member.login', 'm1', s(10));
    f.act('member.login', 'm2', s(329));
    expect(f.of('member.activity.summary')).toHaveLength(0);
    f.act('member.login', 'm2', s(330));
    expect(f.of('member.activity.summary')).toHaveLength(1);
  });

  it('accepts an out-of-order event within the allowed lateness into its window', () => {
    const f = feeder(30_000);
    f.act('member.login', 'm1', s(10));
    f.act('member.login', 'm2', s(320));
    f.act('course.completed', 'm1', s(290));
    f.tick(s(400));
    const m1 = f.of('member.activity.summary').find((e) => e.type === 'member.activity.summary' && e.payload.memberId === 'm1') as Summary;
    expect(m1.payload.counts).toMatchObject({ logins: 1, coursesCompleted: 1 });
    expect(f.sink.late).toHaveLength(0);
  });

  it('counts and keeps aside an event later than the allowance instead of changing a closed window', () => {
    const f = feeder(30_000);
    f.act('member.login', 'm1', s(10));
    f.act('member.login', 'm2', s(340));
    f.act('course.completed', 'm1', s(290));
    const m1 = f.of('member.activity.summary').find((e) => e.type === 'member.activity.summary' && e.payload.memberId === 'm1') as Summary;
    expect(m1.payload.counts.coursesCompleted).toBe(0);
    expect(f.sink.late).toEqual([
      expect.objectContaining({ eventId: 'e3', memberId: 'm1', type: 'course.completed', windowStart: '2025-01-15T10:00:00.000Z' }),
    ]);
    expect(f.processor.stats().lateEvents).toBe(1);
  });

  it('closes idle windows on a processing-time tick', () => {
    const f = feeder(30_000);
    f.act('member.login', 'm1', s(10));
    f.tick(s(320));
    expect(f.of('member.activity.summary')).toHaveLength(0);
    expect(f.processor.nextDeadline()).toBe(s(300));
    f.tick(s(330));
    expect(f.of('member.activity.summary')).toHaveLength(1);
    expect(f.processor.nextDeadline()).toBeNull();
  });

  it('scores engagement with the documented formula and carries half of the previous score', () => {
    const f = feeder(0);
    f.act('course.completed', 'm1', s(0)); // 8 points -> 40
    f.act('course.started', 'm1', s(1)); // +3 -> 55
    f.tick(s(300));
    f.act('member.login', 'm1', s(301)); // 1 point -> 5; (5 + 55) / 2 = 30
    f.tick(s(600));
    expect(f.of('member.engagement.score').map((e) => e.payload)).toEqual([
      expect.objectContaining({ score: 55, windowScore: 55, previousScore: null, level: 'medium' }),
      expect.objectContaining({ score: 30, windowScore: 5, previousScore: 55, level: 'medium' }),
    ]);
  });

  it('assesses risk from failed payments, new locations, support tickets and falling engagement', () => {
    const f = feeder(0);
    f.act('member.login', 'm1', s(0), { location: 'Berlin' });
    f.tick(s(300));
    f.act('payment.failed', 'm1', s(301));
    f.act('member.login', 'm1', s(302), { location: 'Lagos' });
    f.act('support.ticket.opened', 'm1', s(303));
    f.tick(s(600));
    const risks = f.of('member.risk.assessment');
    expect(risks[0]?.payload).toMatchObject({ score: 0, level: 'low', factors: [] });
    expect(risks[1]?.payload).toMatchObject({
      score: 55,
      level: 'medium',
      factors: ['1 failed payment', '1 login from a new location', '1 support ticket'],
    });
  });

  it('gives the same outputs, ids included, for the same inputs', () => {
    const run = () => {
      const f = feeder(30_000);
      for (let i = 0; i < 50; i++) f.act(i % 2 ? 'member.login' : 'course.completed', `m${i % 7}`, s(i * 20), { location: `city${i % 3}` });
      f.tick(s(5000));
      return f.sink.emits;
    };
    const a = run();
    expect(a.length).toBeGreaterThan(0);
    expect(run()).toEqual(a);
  });

  it('ignores an input at or below the position it already processed (redelivery)', () => {
    const processor = new StreamProcessor({ allowedLatenessMs: 0, rules: defaultRules });
    const sink = new ProcessorSink();
    const input: ProcessorInput = { kind: 'activity', id: 'a', type: 'member.login', memberId: 'm1', time: s(0), position: 1, facts: {} };
    processor.process(input, sink);
    processor.process(input, sink);
    expect(processor.stats().processed).toBe(1);
  });

  it('resumes from a snapshot exactly as if it had never stopped', () => {
    const inputs: ProcessorInput[] = [];
    for (let i = 0; i < 40; i++) {
      inputs.push({ kind: 'activity', id: `e${i}`, type: i % 3 ? 'member.login' : 'support.ticket.opened', memberId: `m${i % 4}`, time: s(i * 17), position: i + 1, facts: { location: 'x' } });
    }
    inputs.push({ kind: 'tick', id: 'tick', at: s(8 * 24 * 3600), position: 41 });
    const whole = new StreamProcessor({ allowedLatenessMs: 30_000, rules: defaultRules });
    const wholeSink = new ProcessorSink();
    for (const input of inputs) whole.process(input, wholeSink);

    const first = new StreamProcessor({ allowedLatenessMs: 30_000, rules: defaultRules });
    const sink = new ProcessorSink();
    for (const input of inputs.slice(0, 13)) first.process(input, sink);
    const snapshot = JSON.parse(JSON.stringify({ header: first.header(), members: first.memberSnapshots() }));
    const second = new StreamProcessor({ allowedLatenessMs: 30_000, rules: defaultRules });
    second.restore(snapshot.header, snapshot.members);
    for (const input of inputs) second.process(input, sink);
    expect(sink.emits).toEqual(wholeSink.emits);
    // m0 only ever opens tickets: its armed absence survived the snapshot and fired after it.
    expect(wholeSink.emits.some((e) => e.event.type === 'retention.campaign.started')).toBe(true);
  });
});
