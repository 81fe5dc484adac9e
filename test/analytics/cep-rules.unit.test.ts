// The four CEP rules of the seed, each with a positive and a negative case, through the processor
// core (so derived events such as engagement scores reach the rules as they do in the product).
import { ProcessorSink, StreamProcessor, type ActivityInputType, type ProcessorEmit } from '../../subgraphs/analytics/domain/stream-processor';
import { defaultRules, type FactValue } from '../../subgraphs/analytics/domain/cep-rules';

const T0 = Date.parse('2025-01-15T10:00:00.000Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function feeder() {
  const processor = new StreamProcessor({ allowedLatenessMs: 0, rules: defaultRules });
  const sink = new ProcessorSink();
  let position = 0;
  return {
    act(type: ActivityInputType, memberId: string, time: number, facts: Record<string, FactValue> = {}): void {
      position++;
      processor.process({ kind: 'activity', id: `e${position}`, type, memberId, time, position, facts: { memberId, ...facts } }, sink);
    },
    tick(at: number): void {
      position++;
      processor.process({ kind: 'tick', id: `t${position}`, at, position }, sink);
    },
    patterns(): Extract<ProcessorEmit['event'], { type: 'pattern.detected' }>['payload'][] {
      return sink.emits.flatMap((e) => (e.event.type === 'pattern.detected' ? [e.event.payload] : []));
    },
    actions(type: string): ProcessorEmit['event'][] {
      return sink.emits.map((e) => e.event).filter((e) => e.type === type);
    },
  };
}

describe('churn risk (absence)', () => {
  it('starts a retention campaign when a member is silent for 7 days after a support ticket', () => {
    const f = feeder();
    f.act('support.ticket.opened', 'm1', T0, { ticketId: 't1' });
    f.tick(T0 + 7 * DAY - 1);
    expect(f.patterns()).toHaveLength(0);
    f.tick(T0 + 7 * DAY);
    expect(f.patterns()).toEqual([expect.objectContaining({ pattern: 'churn_risk', memberId: 'm1', evidence: ['e1'], action: 'retention.campaign.started' })]);
    expect(f.actions('retention.campaign.started')[0]?.payload).toMatchObject({ memberId: 'm1', campaign: 'we-miss-you' });
  });

  it('does nothing when the member comes back within 7 days', () => {
    const f = feeder();
    f.act('support.ticket.opened', 'm1', T0);
    f.act('member.login', 'm1', T0 + 6 * DAY);
    f.tick(T0 + 30 * DAY);
    expect(f.patterns()).toHaveLength(0);
  });
});

describe('VIP behaviour (all of, within 30 days)', () => {
  it('offers an upgrade after a large payment, 2 completed courses and 3 logins', () => {
    const f = feeder();
    f.act('payment.completed', 'm1', T0, { amountCents: 15_000 });
    for (let i = 1; i <= 3; i++) f.act('member.login', 'm1', T0 + i * DAY);
    f.act('course.completed', 'm1', T0 + 10 * DAY);
    expect(f.patterns()).toHaveLength(0);
    f.act('course.completed', 'm1', T0 + 20 * DAY);
    expect(f.patterns()).toEqual([expect.objectContaining({ pattern: 'vip_behaviour', action: 'vip.upgrade.offered' })]);
    expect(f.patterns()[0]?.evidence).toHaveLength(6);
  });

  it('does not offer it for small payments or when the events spread over more than 30 days', () => {
    const small = feeder();
    small.act('payment.completed', 'm1', T0, { amountCents: 9_999 });
    for (let i = 1; i <= 3; i++) small.act('member.login', 'm1', T0 + i * MIN);
    small.act('course.completed', 'm1', T0 + 10 * MIN);
    small.act('course.completed', 'm1', T0 + 20 * MIN);
    expect(small.patterns()).toHaveLength(0);

    const slow = feeder();
    slow.act('payment.completed', 'm1', T0, { amountCents: 20_000 });
    for (let i = 1; i <= 3; i++) slow.act('member.login', 'm1', T0 + i * DAY);
    slow.act('course.completed', 'm1', T0 + 10 * DAY);
    slow.act('course.completed', 'm1', T0 + 31 * DAY);
    expect(slow.patterns()).toHaveLength(0);
  });
});

describe('fraud (failed payments and a login from a new place within 10 minutes)', () => {
  it('raises a security alert', () => {
    const f = feeder();
    f.act('member.login', 'm1', T0, { location: 'Berlin' });
    f.act('payment.failed', 'm1', T0 + 60 * MIN);
    f.act('member.login', 'm1', T0 + 62 * MIN, { location: 'Lagos' });
    f.act('payment.failed', 'm1', T0 + 65 * MIN);
    expect(f.patterns()).toEqual([expect.objectContaining({ pattern: 'fraud', memberId: 'm1', action: 'security.alert.raised' })]);
    expect(f.actions('security.alert.raised')[0]?.payload).toMatchObject({ severity: 'high' });
  });

  it('stays quiet for a known place, for a first-ever place, or when the events are more than 10 minutes apart', () => {
    const known = feeder();
    known.act('member.login', 'm1', T0, { location: 'Berlin' });
    known.act('payment.failed', 'm1', T0 + MIN);
    known.act('payment.failed', 'm1', T0 + 2 * MIN);
    known.act('member.login', 'm1', T0 + 3 * MIN, { location: 'Berlin' });
    expect(known.patterns()).toHaveLength(0);

    const first = feeder();
    first.act('payment.failed', 'm2', T0);
    first.act('payment.failed', 'm2', T0 + MIN);
    first.act('member.login', 'm2', T0 + 2 * MIN, { location: 'Lagos' });
    expect(first.patterns()).toHaveLength(0);

    const apart = feeder();
    apart.act('member.login', 'm3', T0, { location: 'Berlin' });
    apart.act('payment.failed', 'm3', T0 + MIN);
    apart.act('payment.failed', 'm3', T0 + 2 * MIN);
    apart.act('member.login', 'm3', T0 + 13 * MIN, { location: 'Lagos' });
    expect(apart.patterns()).toHaveLength(0);
  });
});

describe('high engagement (sequence: course completed, then an engagement score of 70+)', () => {
  it('grants reward points once per day and keeps the balance', () => {
    const f = feeder();
    f.act('course.completed', 'm1', T0 + MIN);
    f.act('course.completed', 'm1', T0 + 2 * MIN);
    f.tick(T0 + 5 * MIN);
    expect(f.patterns()).toEqual([expect.objectContaining({ pattern: 'high_engagement', action: 'reward.points.granted' })]);
    expect(f.actions('reward.points.granted')[0]?.payload).toMatchObject({ points: 100, balance: 100 });
    f.act('course.completed', 'm1', T0 + 6 * MIN);
    f.act('course.completed', 'm1', T0 + 7 * MIN);
    f.tick(T0 + 10 * MIN);
    expect(f.patterns()).toHaveLength(1);
    f.act('course.completed', 'm1', T0 + DAY + 6 * MIN);
    f.act('course.completed', 'm1', T0 + DAY + 7 * MIN);
    f.tick(T0 + DAY + 10 * MIN);
    expect(f.actions('reward.points.granted')[1]?.payload).toMatchObject({ balance: 200 });
  });

  it('grants nothing for a high score without a completed course, or a course with a low score', () => {
    const f = feeder();
    for (let i = 0; i < 20; i++) f.act('member.login', 'm1', T0 + i * 1000);
    f.tick(T0 + 5 * MIN);
    f.act('course.completed', 'm2', T0 + 6 * MIN);
    f.tick(T0 + 10 * MIN);
    expect(f.patterns()).toHaveLength(0);
  });
});
