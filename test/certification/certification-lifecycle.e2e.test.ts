// The certification lifecycle through the gateway, on the whole product: a member applies, admins
// review, issue and activate, the expiry scheduler (ManualClock, no real wait) moves it to
// Expiring, the member renews; suspension and reactivation; finally it expires for good. A
// subscriber watches every transition, selecting member fields the member subgraph resolves;
// refusals answer with codes; queries read the read model and the timeline.
import type { Client } from 'graphql-ws';
import { createMemoryBackends, type Backends } from '../../messaging/backends';
import { ManualClock } from '../../platform/clock';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe, type Collector } from '../subscriptions/support/ws-client';

const CERT_FIELDS = 'id memberId certType status certNumber issueDate expiryDate renewals version reason allowedTransitions allowedMutations';
const UPDATE_FIELDS = `eventType occurredAt cursor fromState toState certification { id status certNumber expiryDate member { id firstName } }`;
const documents = [{ name: 'Transcript', url: 'https://files.example.org/ada/transcript.pdf' }];

describe('certification lifecycle through the gateway', () => {
  let clock: ManualClock;
  let backends: Backends;
  let product: RunningProduct;
  const clients: Client[] = [];

  beforeAll(async () => {
    clock = new ManualClock('2025-01-15T00:00:00.000Z');
    backends = await createMemoryBackends(clock);
    product = await startProduct({ backends, env: { CERTIFICATION_EXPIRY_INTERVAL_MS: '20' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await product.close();
    await backends.close();
  });

  const as = (sub: string, role: 'member' | 'admin' = 'member') => product.token(sub, role);
  async function gql(token: string, query: string, variables: Record<string, unknown> = {}) {
    const response = await product.graphql(query, { token, variables });
    return response.body;
  }
  async function ok<T = Record<string, unknown>>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = await gql(token, query, variables);
    if (body.errors) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }
  async function refused(token: string, query: string, variables: Record<string, unknown> = {}) {
    const body = await gql(token, query, variables);
    expect(body.errors).toHaveLength(1);
    return body.errors?.[0] as { message: string; extensions: Record<string, unknown> };
  }
  /**
   * Subscribe resuming after the store's current head: whatever is appended from now on reaches
   * the subscriber even if its subscribe message is still on the way (no race with the next mutation).
   */
  async function watch(token: string, query: string, variables: Record<string, unknown>): Promise<Collector> {
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { authorization: `Bearer ${token}` });
    clients.push(client);
    return subscribe(client, { query, variables, extensions: { cursor: String(await backends.store.headPosition()) } });
  }
  const adminMutation = (name: string, extra = '') => `mutation($id: ID!${extra ? ', $reason: String!' : ''}) { ${name}(id: $id${extra ? ', reason: $reason' : ''}) { ${CERT_FIELDS} } }`;

  it('drives a certification through its whole life, watched by a subscriber, with refusals coded', async () => {
    const ada = as('ada');
    const admin = as('root', 'admin');
    await ok(ada, `mutation { createMember(input: { email: "ada@example.org", firstName: "Ada", lastName: "Lovelace" }) { id } }`);

    // The member watches all of its certifications (before it has any).
    const changes = await watch(ada, `subscription($m: ID!) { certificationChanged(memberId: $m) { ${UPDATE_FIELDS} } }`, { m: 'ada' });

    const applied = await ok<{ applyForCertification: { id: string; status: string; version: number } }>(
      ada,
      `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { ${CERT_FIELDS} } }`,
      { input: { certType: 'CPA', documents } },
    );
    const id = applied.applyForCertification.id;
    // What a caller may do next is in the schema's terms, for the caller: the applicant nothing yet, an admin the review.
    expect(applied.applyForCertification).toMatchObject({ status: 'APPLIED', version: 1, allowedTransitions: [], allowedMutations: [] });
    const asAdmin = await ok<{ certification: { allowedTransitions: string[]; allowedMutations: string[] } }>(
      admin,
      `{ certification(id: "${id}") { allowedTransitions allowedMutations } }`,
    );
    expect(asAdmin.certification).toEqual({ allowedTransitions: ['UNDER_REVIEW'], allowedMutations: ['startCertificationReview'] });

    // An admin watches this one certification.
    const lifecycle = await watch(admin, `subscription($id: ID!) { certificationLifecycle(id: $id) { ${UPDATE_FIELDS} } }`, { id });

    // Refusals: members cannot review; the machine refuses undrawn edges, naming state and options.
    expect((await refused(ada, adminMutation('startCertificationReview'), { id })).extensions.code).toBe('FORBIDDEN');
    const early = await refused(admin, adminMutation('approveCertification'), { id });
    expect(early.extensions).toMatchObject({
      code: 'INVALID_TRANSITION',
      certificationId: id,
      currentState: 'APPLIED',
      attempted: 'approveCertification',
      allowedTransitions: ['UNDER_REVIEW'],
      allowedMutations: ['startCertificationReview'],
    });
    expect(early.message).toBe(`Certification ${id} is APPLIED: approveCertification is not allowed. From APPLIED you may call: startCertificationReview (-> UNDER_REVIEW).`);

    await ok(admin, adminMutation('startCertificationReview'), { id });
    await ok(admin, adminMutation('approveCertification'), { id });
    const issued = await ok<{ issueCertification: { certNumber: string; expiryDate: string } }>(admin, adminMutation('issueCertification'), { id });
    expect(issued.issueCertification).toMatchObject({ certNumber: 'CPA-2025-000001', expiryDate: '2028-01-15T00:00:00.000Z' });
    await ok(admin, adminMutation('activateCertification'), { id });

    // Renewal is refused until the scheduler says it is expiring.
    expect((await refused(ada, `mutation($id: ID!) { renewCertification(id: $id) { id } }`, { id })).extensions).toMatchObject({
      code: 'INVALID_TRANSITION',
      currentState: 'ACTIVE',
      attempted: 'renewCertification',
      allowedTransitions: [],
      allowedMutations: [],
    });

    // Into the 60-day window: the scheduler (worker) emits expiring_soon; no real wait.
    clock.set('2027-11-20T00:00:00.000Z');
    await eventually(async () => (await ok<{ certification: { status: string } }>(ada, `{ certification(id: "${id}") { status } }`)).certification.status === 'EXPIRING', 'EXPIRING');

    expect((await ok<{ certification: unknown }>(ada, `{ certification(id: "${id}") { allowedTransitions allowedMutations } }`)).certification).toEqual({
      allowedTransitions: ['RENEWED'],
      allowedMutations: ['renewCertification'],
    });
    expect((await refused(as('bob'), `mutation($id: ID!) { renewCertification(id: $id) { id } }`, { id })).extensions.code).toBe('FORBIDDEN');
    const renewed = await ok<{ renewCertification: { status: string; expiryDate: string; renewals: number } }>(
      ada,
      `mutation($id: ID!) { renewCertification(id: $id) { ${CERT_FIELDS} } }`,
      { id },
    );
    expect(renewed.renewCertification).toMatchObject({ status: 'RENEWED', expiryDate: '2031-01-15T00:00:00.000Z', renewals: 1 });
    await ok(admin, adminMutation('activateCertification'), { id });
    await ok(admin, adminMutation('suspendCertification', 'reason'), { id, reason: 'Complaint under investigation' });
    await ok(admin, adminMutation('reactivateCertification'), { id });

    // Past the renewed expiry date while active: expiring_soon then expired at the next tick.
    clock.set('2031-02-01T00:00:00.000Z');
    await eventually(async () => (await ok<{ certification: { status: string } }>(ada, `{ certification(id: "${id}") { status } }`)).certification.status === 'EXPIRED', 'EXPIRED');

    const final = await refused(admin, adminMutation('reactivateCertification'), { id });
    expect(final.extensions).toMatchObject({ code: 'INVALID_TRANSITION', currentState: 'EXPIRED', allowedTransitions: [], allowedMutations: [] });
    expect(final.message).toContain('EXPIRED is a final state');

    const expected = [
      [null, 'APPLIED', 'certification.applied'],
      ['APPLIED', 'UNDER_REVIEW', 'certification.review.started'],
      ['UNDER_REVIEW', 'APPROVED', 'certification.approved'],
      ['APPROVED', 'ISSUED', 'certification.issued'],
      ['ISSUED', 'ACTIVE', 'certification.activated'],
      ['ACTIVE', 'EXPIRING', 'certification.expiring_soon'],
      ['EXPIRING', 'RENEWED', 'certification.renewed'],
      ['RENEWED', 'ACTIVE', 'certification.activated'],
      ['ACTIVE', 'SUSPENDED', 'certification.suspended'],
      ['SUSPENDED', 'ACTIVE', 'certification.reactivated'],
      ['ACTIVE', 'EXPIRING', 'certification.expiring_soon'],
      ['EXPIRING', 'EXPIRED', 'certification.expired'],
    ];
    // The member's subscriber saw the whole life, in order, with member fields from the member subgraph.
    const seen: unknown[][] = [];
    for (let i = 0; i < expected.length; i++) {
      const next = await changes.takeNext(`transition ${i}`);
      const update = (next.data as { certificationChanged: Record<string, unknown> & { certification: Record<string, unknown> } }).certificationChanged;
      expect(update.certification).toMatchObject({ id, member: { id: 'ada', firstName: 'Ada' } });
      expect(update.cursor).toBe(next.cursor);
      seen.push([update.fromState, update.toState, update.eventType]);
    }
    expect(seen).toEqual(expected);

    // The admin's lifecycle subscription started after the application: everything after it.
    const watched: unknown[] = [];
    for (let i = 1; i < expected.length; i++) {
      const update = ((await lifecycle.takeNext(`lifecycle ${i}`)).data as { certificationLifecycle: { toState: string; certification: { status: string } } })
        .certificationLifecycle;
      expect(update.certification.status).toBe(update.toState);
      watched.push(update.toState);
    }
    expect(watched).toEqual(expected.slice(1).map((e) => e[1]));

    // The timeline from the events, with who did what.
    type Transition = { eventType: string; toState: string; actor: { role: string } | null; reason: string | null };
    type Timeline = { totalCount: number; edges: { node: Transition }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    const timelinePage = async (after: string | null) =>
      (
        await ok<{ certification: { timeline: Timeline } }>(
          admin,
          `query($after: String) { certification(id: "${id}") { timeline(first: 5, after: $after) { totalCount edges { node { eventType fromState toState occurredAt reason version actor { id role } } } pageInfo { hasNextPage endCursor } } } }`,
          { after },
        )
      ).certification.timeline;
    const timeline: Transition[] = [];
    let page = await timelinePage(null);
    timeline.push(...page.edges.map((e) => e.node));
    while (page.pageInfo.hasNextPage) {
      page = await timelinePage(page.pageInfo.endCursor);
      timeline.push(...page.edges.map((e) => e.node));
    }
    expect(page.totalCount).toBe(expected.length);
    expect(timeline.map((t) => t.toState)).toEqual(expected.map((e) => e[1]));
    expect(timeline[8]).toMatchObject({ eventType: 'certification.suspended', reason: 'Complaint under investigation', actor: { role: 'ADMIN' } });
    expect(timeline[11]).toMatchObject({ eventType: 'certification.expired', actor: { role: 'SYSTEM' } });
  });

  it('answers queries from the read model, Member.certifications across subgraphs, and codes bad input', async () => {
    const ada = as('ada');
    const admin = as('root', 'admin');
    const apply = (token: string, input: Record<string, unknown>) =>
      gql(token, `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id status } }`, { input });

    expect((await apply(ada, { certType: 'NOPE', documents })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'certType' });
    expect((await apply(ada, { certType: 'CFE', documents: [] })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'documents' });
    expect((await apply(ada, { memberId: 'bob', certType: 'CFE', documents })).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await apply(admin, { memberId: 'ghost', certType: 'CFE', documents })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'memberId' });
    expect((await apply(as('ghost'), { certType: 'CFE', documents })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'memberId' });
    expect((await refused(admin, adminMutation('rejectCertification', 'reason'), { id: 'nope', reason: 'x' })).extensions.code).toBe('NOT_FOUND');

    const cfe = (await apply(ada, { certType: 'CFE', documents })).data as { applyForCertification: { id: string } };
    const id = cfe.applyForCertification.id;
    await ok(admin, adminMutation('startCertificationReview'), { id });
    expect((await refused(admin, adminMutation('rejectCertification', 'reason'), { id, reason: '   ' })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'reason',
    });
    await ok(admin, adminMutation('rejectCertification', 'reason'), { id, reason: 'Transcript unreadable' });

    await eventually(async () => {
      const data = await ok<{ certifications: { edges: { node: { id: string; status: string } }[] } }>(
        ada,
        `{ certifications(status: REJECTED) { edges { node { id status reason } } } }`,
      );
      return data.certifications.edges.length === 1 && data.certifications.edges[0]?.node.id === id;
    }, 'the read model to show the rejection');
    expect((await refused(ada, `{ certifications(memberId: "bob") { totalCount } }`)).extensions.code).toBe('FORBIDDEN');
    expect((await refused(as('bob'), `{ certification(id: "${id}") { id } }`)).extensions.code).toBe('FORBIDDEN');

    // Subscriptions: the applicant's or any for admins; others are refused with codes.
    for (const [token, query, variables, code] of [
      [as('bob'), `subscription($id: ID!) { certificationLifecycle(id: $id) { eventType } }`, { id }, 'FORBIDDEN'],
      [as('bob'), `subscription($m: ID!) { certificationChanged(memberId: $m) { eventType } }`, { m: 'ada' }, 'FORBIDDEN'],
      [admin, `subscription($id: ID!) { certificationLifecycle(id: $id) { eventType } }`, { id: 'nope' }, 'NOT_FOUND'],
    ] as const) {
      const refusal = await (await watch(token, query, variables)).take(`a ${code} refusal`);
      expect(refusal.kind === 'error' && refusal.errors[0]?.extensions?.code).toBe(code);
    }

    const expiring = await ok<{ certifications: { totalCount: number; edges: { node: { certType: string } }[] } }>(
      admin,
      `{ certifications(memberId: "ada", expiringBefore: "2040-01-01T00:00:00Z") { totalCount edges { node { certType } } } }`,
    );
    expect(expiring.certifications.edges.map((e) => e.node.certType)).toEqual(['CPA']);
    expect(expiring.certifications.totalCount).toBe(1);
    expect((await refused(admin, `{ certifications(memberId: "ada", expiringBefore: "0001-01-01T00:00:00Z") { totalCount } }`)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'expiringBefore',
    });

    const member = await ok<{ member: { firstName: string; certifications: { edges: { node: { status: string; type: { name: string } } }[] } } }>(
      ada,
      `{ member(id: "ada") { firstName certifications { edges { node { status certNumber type { name } } } } } }`,
    );
    const certifications = member.member.certifications.edges.map((e) => e.node);
    expect(member.member.firstName).toBe('Ada');
    expect(certifications.map((c) => c.status).sort()).toEqual(['EXPIRED', 'REJECTED']);
    expect(certifications.find((c) => c.status === 'EXPIRED')?.type.name).toBe('Certified Practising Accountant');
  });
});
