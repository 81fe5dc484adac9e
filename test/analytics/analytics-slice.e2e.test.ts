// The analytics slice through the gateway: activity posted (and payment events from the store)
// becomes window summaries, engagement, risk and pattern actions on Member, and patterns are pushed
// to an admin's `patternDetected` subscription. Time is a ManualClock: windows close when it moves.
import { ManualClock } from '../../platform/clock';
import { createMemoryBackends } from '../../messaging/backends';
import type { AnyNewEvent } from '../../messaging/events/envelope';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';

const MINUTE = 60_000;

describe('analytics through the gateway', () => {
  let product: RunningProduct;
  let clock: ManualClock;
  let admin: string;

  beforeAll(async () => {
    clock = new ManualClock('2025-01-15T10:00:00.000Z');
    product = await startProduct({ backends: await createMemoryBackends(clock), env: { ANALYTICS_TICK_MS: '20', ANALYTICS_ALLOWED_LATENESS_MS: '30000' } });
    admin = product.token('ops', 'admin');
    for (const id of ['m1', 'm2']) {
      const created = await product.graphql(
        'mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }',
        { token: admin, variables: { input: { id, email: `${id}@example.org`, firstName: 'Ana', lastName: 'Lytics' } } },
      );
      expect(created.body.errors).toBeUndefined();
    }
  }, 60_000);

  afterAll(async () => {
    await product?.close();
  });

  const track = (token: string, inputs: unknown[]) =>
    product.graphql('mutation($inputs: [ActivityInput!]!) { trackActivities(inputs: $inputs) { eventId type memberId } }', { token, variables: { inputs } });

  async function activityCount(): Promise<number> {
    let n = 0;
    for await (const batch of product.backends.store.readAll({ types: ['member.login', 'course.started', 'course.completed', 'member.profile.viewed', 'support.ticket.opened'] })) n += batch.length;
    return n;
  }

  it('refuses bad activity with a coded error naming the entry, and stores nothing', async () => {
    const m1 = product.token('m1');
    const before = await activityCount();
    const unknown = await track(m1, [{ memberId: 'm1', type: 'MEMBER_LOGIN' }, { memberId: 'm1', type: 'MEMBER_DANCE' }]);
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(unknown.body.errors?.[0]?.message).toMatch(/ActivityType/);
    const untrackable = await track(m1, [{ memberId: 'm1', type: 'MEMBER_LOGIN' }, { memberId: 'm1', type: 'PAYMENT_COMPLETED' }]);
    expect(untrackable.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs[1].type' });
    const future = await track(m1, [{ memberId: 'm1', type: 'MEMBER_LOGIN', occurredAt: '2025-01-15T11:00:00.000Z' }]);
    expect(future.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.occurredAt' });
    for (const occurredAt of ['0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '1', 'March 7', '2025-01-15T09:00:00']) {
      const bad = await track(m1, [{ memberId: 'm1', type: 'MEMBER_LOGIN', occurredAt }]);
      expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.occurredAt' });
    }
    const missing = await track(m1, [{ memberId: 'm1', type: 'COURSE_STARTED' }]);
    expect(missing.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.courseId' });
    const empty = await track(m1, []);
    expect(empty.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs' });
    const ghost = await track(admin, [{ memberId: 'm1', type: 'MEMBER_LOGIN' }, { memberId: 'ghost', type: 'MEMBER_LOGIN' }]);
    expect(ghost.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'inputs[1].memberId' });
    const selfGhost = await track(product.token('ghost'), [{ memberId: 'ghost', type: 'MEMBER_LOGIN' }]);
    expect(selfGhost.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.memberId' });
    const other = await track(m1, [{ memberId: 'm2', type: 'MEMBER_LOGIN' }]);
    expect(other.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await activityCount()).toBe(before);
  });

  it('turns activity into summaries, scores, risk and pattern actions, and pushes patterns to admins', async () => {
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { authorization: `Bearer ${admin}` });
    // Cursor 0: from the start of the store, so nothing is missed while the subscription is set up.
    const patterns = subscribe(client, {
      query: 'subscription { patternDetected { eventType cursor pattern { pattern memberId action } member { id email } } }',
      extensions: { cursor: '0' },
    });
    try {
      // m1: a busy learner (high engagement -> reward points).
      const posted = await track(product.token('m1'), [
        { memberId: 'm1', type: 'MEMBER_LOGIN', location: 'Berlin' },
        { memberId: 'm1', type: 'COURSE_STARTED', courseId: 'ts-101' },
        { memberId: 'm1', type: 'COURSE_COMPLETED', courseId: 'ts-101' },
        { memberId: 'm1', type: 'COURSE_COMPLETED', courseId: 'gql-201' },
      ]);
      expect(posted.body.errors).toBeUndefined();
      // m2: failed payments (from the payment service) and a login from a new place (fraud).
      await track(admin, [{ memberId: 'm2', type: 'MEMBER_LOGIN', location: 'Berlin' }]);
      const failed = (n: number): AnyNewEvent => ({
        type: 'payment.failed',
        payload: { paymentId: `p${n}`, orderId: `o${n}`, memberId: 'm2', reason: 'card_declined', message: 'declined' },
      });
      await product.backends.store.append('payment-m2', [failed(1), failed(2)], { expectedVersion: 'any', context: { correlationId: 'e2e' } });
      await track(admin, [{ memberId: 'm2', type: 'MEMBER_LOGIN', location: 'Lagos' }]);

      const fraud = await patterns.take('the fraud pattern');
      expect(fraud).toMatchObject({ kind: 'next', data: { patternDetected: { eventType: 'pattern.detected', pattern: { pattern: 'FRAUD', memberId: 'm2', action: 'SECURITY_ALERT_RAISED' }, member: { id: 'm2', email: 'm2@example.org' } } } });

      // Processing time passes the window end plus the allowed lateness: the windows close.
      clock.advance(5 * MINUTE + 30_000);
      const reward = await patterns.take('the high engagement pattern');
      expect(reward).toMatchObject({ kind: 'next', data: { patternDetected: { pattern: { pattern: 'HIGH_ENGAGEMENT', memberId: 'm1' } } } });

      const query = `query($id: ID!) { member(id: $id) { id activitySummary { windowStart windowEnd logins coursesStarted coursesCompleted total }
        engagementScore { score level } riskAssessment { score level factors } rewardPoints patternActions { totalCount edges { node { type detail } } } } }`;
      const m1 = await eventually(async () => {
        const r = await product.graphql(query, { token: product.token('m1'), variables: { id: 'm1' } });
        const member = (r.body.data as { member: { rewardPoints: number } } | undefined)?.member;
        return member && member.rewardPoints > 0 ? member : null;
      }, 'm1 rewarded');
      expect(m1).toMatchObject({
        activitySummary: { windowStart: '2025-01-15T10:00:00.000Z', windowEnd: '2025-01-15T10:05:00.000Z', logins: 1, coursesStarted: 1, coursesCompleted: 2, total: 4 },
        engagementScore: { score: 100, level: 'HIGH' },
        riskAssessment: { score: 0, level: 'LOW' },
        rewardPoints: 100,
        patternActions: { totalCount: 1, edges: [{ node: { type: 'REWARD_POINTS_GRANTED', detail: expect.objectContaining({ points: 100, balance: 100 }) } }] },
      });
      const m2 = await eventually(async () => {
        const r = await product.graphql(query, { token: admin, variables: { id: 'm2' } });
        const member = (r.body.data as { member: { riskAssessment: unknown } } | undefined)?.member;
        return member?.riskAssessment ? member : null;
      }, 'm2 assessed');
      expect(m2).toMatchObject({ riskAssessment: { score: 70, level: 'HIGH', factors: ['2 failed payments', '1 login from a new location'] }, patternActions: { edges: [{ node: { type: 'SECURITY_ALERT_RAISED' } }] } });

      // A member sees its own patterns only; an admin sees all.
      const own = await product.graphql('{ detectedPatterns { edges { node { pattern memberId } } } }', { token: product.token('m1') });
      expect(own.body.data).toEqual({ detectedPatterns: { edges: [{ node: { pattern: 'HIGH_ENGAGEMENT', memberId: 'm1' } }] } });
      const forbidden = await product.graphql('{ detectedPatterns(memberId: "m2") { totalCount } }', { token: product.token('m1') });
      expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const all = await product.graphql('{ detectedPatterns { totalCount edges { node { pattern } } } cepRules { id pattern kind withinMs } analyticsStatus { lateEvents openWindows } }', { token: admin });
      expect((all.body.data as { detectedPatterns: { totalCount: number; edges: unknown[] } }).detectedPatterns).toMatchObject({ totalCount: 2, edges: [{}, {}] });
      expect((all.body.data as { cepRules: { pattern: string }[] }).cepRules.map((r) => r.pattern).sort()).toEqual(['CHURN_RISK', 'FRAUD', 'HIGH_ENGAGEMENT', 'VIP_BEHAVIOUR']);
      const otherMember = await product.graphql('{ member(id: "m2") { rewardPoints } }', { token: product.token('m1') });
      expect(otherMember.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      patterns.unsubscribe();
      await client.dispose();
    }
  }, 60_000);
});
