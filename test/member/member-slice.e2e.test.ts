// The seed's real-time member update flow, end to end through the gateway, on the embedded store
// and real RabbitMQ: mutations answer once events are stored; CRM, Email, Audit and Analytics
// follow asynchronously; refusals store and publish nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { createBackends, type Backends } from '../../messaging/backends';
import { loadConfig } from '../../platform/config';
import type { Mailer, OutgoingEmail } from '../../subgraphs/member/consumers/mailer';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('member-slice');

/** A mailer whose deliveries wait until the test opens the gate. */
class GatedMailer implements Mailer {
  readonly transport = 'mailbox' as const;
  readonly sent: OutgoingEmail[] = [];
  private open = true;
  private waiters: (() => void)[] = [];
  hold(): void {
    this.open = false;
  }
  release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async send(email: OutgoingEmail): Promise<void> {
    if (!this.open) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.sent.push(email);
  }
  async close(): Promise<void> {
    this.release();
  }
}

const MEMBER_FIELDS = 'id email firstName lastName tier membershipStatus membershipExpiresAt version';

describe('member slice through the gateway (embedded store, RabbitMQ)', () => {
  let product: RunningProduct;
  let backends: Backends;
  let dataDir: string;
  const mailer = new GatedMailer();
  const admin = () => product.token('admin-1', 'admin');

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'member-e2e-'));
    const env = { DATA_DIR: dataDir, RABBITMQ_URL: broker.url, FOLLOWER_POLL_MS: '20' };
    backends = await createBackends(loadConfig(env));
    product = await startProduct({ env, backends, mailer });
  });
  afterAll(async () => {
    await product.close();
    await backends.close();
    await broker.delete();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function createMember(id: string, email: string) {
    const { body } = await product.graphql(
      `mutation($input: CreateMemberInput!) { createMember(input: $input) { ${MEMBER_FIELDS} } }`,
      { token: product.token(id), variables: { input: { email, firstName: 'Ada', lastName: 'Lovelace' } } },
    );
    return body;
  }

  it('creates, updates and renews; the answer comes before the consumers finish; then their effects show', async () => {
    const id = `m-${randomUUID().slice(0, 8)}`;
    const token = product.token(id);
    mailer.hold();
    const created = await createMember(id, `${id}@example.org`);
    expect(created.errors).toBeUndefined();
    expect(created.data).toEqual({
      createMember: expect.objectContaining({ id, email: `${id}@example.org`, tier: 'BASIC', membershipStatus: 'NONE', version: 1 }),
    });
    // The email consumer is held: the mutation answered without waiting for it.
    expect(mailer.sent.filter((m) => m.to === `${id}@example.org`)).toEqual([]);

    const updated = await product.graphql(
      `mutation($id: ID!) { updateMemberProfile(id: $id, input: { firstName: "Augusta" }, expectedVersion: 1) { firstName version } }`,
      { token, variables: { id } },
    );
    expect(updated.body.data).toEqual({ updateMemberProfile: { firstName: 'Augusta', version: 2 } });

    // Membership follows payment: an admin records a renewal paid outside the shop.
    const renewed = await product.graphql(
      `mutation($id: ID!) { renewMembership(id: $id, input: { months: 12 }, expectedVersion: 2) { membershipStatus version } }`,
      { token: admin(), variables: { id } },
    );
    expect(renewed.body.data).toEqual({ renewMembership: { membershipStatus: 'ACTIVE', version: 3 } });
    mailer.release();

    const effects = await eventually(async () => {
      const { body } = await product.graphql(
        `query($id: ID!) { member(id: $id) { firstName version crmSync { firstName version upToDate }
          emails { totalCount edges { node { subject transport } } } auditTrail { totalCount edges { node { eventType actorId changes { field before after } } } } } }`,
        { token, variables: { id } },
      );
      const m = (
        body.data as
          | { member: { version: number; crmSync: { upToDate: boolean } | null; emails: { totalCount: number }; auditTrail: { totalCount: number; edges: { node: unknown }[] } } | null }
          | undefined
      )?.member;
      return m && m.version === 3 && m.crmSync?.upToDate && m.emails.totalCount === 3 && m.auditTrail.totalCount === 3 ? m : null;
    }, 'the CRM, email and audit consumers to catch up');
    expect(effects).toMatchObject({
      firstName: 'Augusta',
      crmSync: { firstName: 'Augusta', version: 3 },
      emails: {
        edges: [
          { node: { subject: 'Welcome to the organisation', transport: 'MAILBOX' } },
          { node: { subject: 'Your profile was updated', transport: 'MAILBOX' } },
          { node: { subject: 'Your membership was renewed', transport: 'MAILBOX' } },
        ],
      },
    });
    expect(effects.auditTrail.edges[1]?.node).toEqual({
      eventType: 'member.profile.updated',
      actorId: id,
      changes: [{ field: 'FIRST_NAME', before: 'Ada', after: 'Augusta' }],
    });

    // sync.completed and email.sent were stored, caused by the member events, with the request's correlation.
    const stored = [];
    for await (const batch of backends.store.readAll({ types: ['sync.completed', 'email.sent'] })) {
      stored.push(...batch.filter((e) => (e.type === 'sync.completed' || e.type === 'email.sent') && e.payload.memberId === id));
    }
    expect(stored.filter((e) => e.type === 'sync.completed')).toHaveLength(3);
    expect(stored.filter((e) => e.type === 'email.sent')).toHaveLength(3);
    expect(stored.every((e) => e.causationId !== null)).toBe(true);
  });

  it('publishes a mutation\'s events on the deployment exchange (RABBITMQ_EXCHANGE, `events` by default) with the request\'s correlation id', async () => {
    const connection = new Connection(broker.url);
    const queue = `test.${randomUUID()}`;
    const seen: { type: string; correlationId?: string | undefined }[] = [];
    const consumer = connection.createConsumer(
      { queue, queueOptions: { exclusive: true, autoDelete: true }, queueBindings: [{ exchange: product.config.RABBITMQ_EXCHANGE, routingKey: 'member.created' }] },
      async (msg) => {
        seen.push({ type: msg.routingKey, correlationId: msg.correlationId });
      },
    );
    await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
    try {
      const id = `m-${randomUUID().slice(0, 8)}`;
      const correlationId = `corr-${randomUUID()}`;
      const { body } = await product.graphql(
        `mutation { createMember(input: { email: "${id}@example.org", firstName: "Grace", lastName: "Hopper" }) { id } }`,
        { token: product.token(id), headers: { 'x-correlation-id': correlationId } },
      );
      expect(body.errors).toBeUndefined();
      await eventually(() => seen.find((s) => s.correlationId === correlationId), 'member.created on the events exchange');
    } finally {
      await consumer.close();
      await connection.close();
    }
  });

  it('handles a redelivered event once: no second email, no second audit entry', async () => {
    const id = `m-${randomUUID().slice(0, 8)}`;
    await createMember(id, `${id}@example.org`);
    const token = product.token(id);
    const counts = async () => {
      const { body } = await product.graphql(`query($id: ID!) { member(id: $id) { emails { totalCount edges { cursor } } auditTrail { totalCount edges { cursor } } } }`, {
        token,
        variables: { id },
      });
      return (body.data as { member: { emails: { totalCount: number; edges: unknown[] }; auditTrail: { totalCount: number; edges: unknown[] } } | null }).member;
    };
    await eventually(async () => {
      const m = await counts();
      return m && m.emails.totalCount === 1 && m.auditTrail.totalCount === 1;
    }, 'the welcome email and audit entry');
    const [created] = await backends.store.readStream(`member-${id}`);
    const checkpoints = async () =>
      (await backends.documents.collection<{ id: string; position: number; skippedDuplicates: number }>('consumer_checkpoints').find()).filter(
        (c) => c.id.endsWith('.email') || c.id.endsWith('.audit'),
      );
    // The side effects show before the consumers record the event as processed (the marker is
    // written after the handler, then the checkpoint): a copy published in between would be
    // handled again (keyed, so still once). Publish the copies once both have recorded it.
    let skippedBefore = new Map<string, number>();
    await eventually(async () => {
      const cps = await checkpoints();
      skippedBefore = new Map(cps.map((c) => [c.id, c.skippedDuplicates]));
      return cps.length === 2 && cps.every((c) => c.position >= created!.position);
    }, 'the email and audit consumers to record the event');
    const before = mailer.sent.length;
    await backends.bus.publish([created!]);
    await backends.bus.publish([created!]);
    // The duplicates are acknowledged without handling: the consumers' checkpoints count them.
    await eventually(async () => (await checkpoints()).every((c) => c.skippedDuplicates >= (skippedBefore.get(c.id) ?? 0) + 2), 'the duplicates to be skipped');
    const after = await counts();
    expect(after?.emails).toMatchObject({ totalCount: 1, edges: [{}] });
    expect(after?.auditTrail).toMatchObject({ totalCount: 1, edges: [{}] });
    expect(mailer.sent.length).toBe(before);
  });

  describe('refusals store and publish nothing', () => {
    let id: string;
    beforeAll(async () => {
      id = `m-${randomUUID().slice(0, 8)}`;
      await createMember(id, `${id}@example.org`);
      await createMember(`${id}-other`, `${id}-other@example.org`);
    });

    /** Events stored (and so ever published: the relay only publishes stored events) under a correlation id. */
    async function eventsCorrelatedWith(correlationId: string) {
      const found = [];
      for await (const batch of backends.store.readAll()) found.push(...batch.filter((e) => e.correlationId === correlationId));
      return found;
    }

    async function expectRefused(query: string, token: string, code: string, field?: string, variables: Record<string, unknown> = {}) {
      const correlationId = `refusal-${randomUUID()}`;
      const versionBefore = await backends.store.streamVersion(`member-${id}`);
      const { body } = await product.graphql(query, { token, variables: { id, ...variables }, headers: { 'x-correlation-id': correlationId } });
      expect(body.errors?.[0]?.extensions?.code).toBe(code);
      if (field) expect(body.errors?.[0]?.extensions?.field).toBe(field);
      expect(await backends.store.streamVersion(`member-${id}`)).toBe(versionBefore);
      expect(await eventsCorrelatedWith(correlationId)).toEqual([]);
      return body.errors?.[0];
    }

    it.each([
      ['a bad email', '{ email: "nope" }', 'email'],
      ['an empty first name', '{ firstName: "  " }', 'firstName'],
      ['an over-long last name', `{ lastName: "${'x'.repeat(101)}" }`, 'lastName'],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_what, input, field) => {
      await expectRefused(
        `mutation($id: ID!) { updateMemberProfile(id: $id, input: ${input}, expectedVersion: 1) { id } }`,
        product.token(id),
        'BAD_USER_INPUT',
        field,
      );
    });

    it.each([
      ['a NUL', 'Ada\u0000Lovelace'],
      ['a right-to-left override', 'Ada\u202Etxt.exe'],
      ['a lone surrogate', 'Ada\ud800'],
    ])('refuses a name with %s with BAD_USER_INPUT naming the field', async (_what, firstName) => {
      await expectRefused(
        `mutation($id: ID!, $firstName: String) { updateMemberProfile(id: $id, input: { firstName: $firstName }, expectedVersion: 1) { id } }`,
        product.token(id),
        'BAD_USER_INPUT',
        'firstName',
        { firstName },
      );
    });

    it('refuses an email another member uses', async () => {
      await expectRefused(
        `mutation($id: ID!) { updateMemberProfile(id: $id, input: { email: "${id}-other@example.org" }, expectedVersion: 1) { id } }`,
        product.token(id),
        'BAD_USER_INPUT',
        'email',
      );
    });

    it("refuses a member's own renewal without payment with FORBIDDEN (membership follows payment)", async () => {
      const error = await expectRefused(`mutation($id: ID!) { renewMembership(id: $id, input: { months: 12 }) { id } }`, product.token(id), 'FORBIDDEN');
      expect(error?.message).toMatch(/order/);
    });

    it.each(['PREMIUM', 'VIP'])("refuses a member's own registration at %s with FORBIDDEN on tier", async (tier) => {
      const self = `${id}-${tier.toLowerCase()}`;
      const { body } = await product.graphql(`mutation { createMember(input: { email: "${self}@example.org", firstName: "A", lastName: "B", tier: ${tier} }) { id } }`, {
        token: product.token(self),
      });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'tier' });
      expect(await backends.store.streamVersion(`member-${self}`)).toBe(0);
    });

    it('refuses a duplicate email on registration', async () => {
      const body = await createMember(`${id}-third`, `${id}@example.org`);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
      expect(await backends.store.streamVersion(`member-${id}-third`)).toBe(0);
    });

    it('refuses a stale expectedVersion with CONFLICT naming both versions', async () => {
      const error = await expectRefused(
        `mutation($id: ID!) { updateMemberProfile(id: $id, input: { firstName: "X" }, expectedVersion: 7) { id } }`,
        product.token(id),
        'CONFLICT',
      );
      expect(error?.extensions).toMatchObject({ expectedVersion: 7, actualVersion: 1 });
    });

    it('refuses an unknown member with NOT_FOUND', async () => {
      await expectRefused(
        `mutation { renewMembership(id: "nobody", input: { months: 12 }) { id } }`,
        admin(),
        'NOT_FOUND',
      );
    });

    it('refuses a member changing another member with FORBIDDEN', async () => {
      await expectRefused(
        `mutation($id: ID!) { updateMemberProfile(id: $id, input: { firstName: "X" }, expectedVersion: 1) { id } }`,
        product.token('someone-else'),
        'FORBIDDEN',
      );
    });
  });

  it('lets exactly one of two concurrent updates with the same expected version win', async () => {
    const id = `m-${randomUUID().slice(0, 8)}`;
    await createMember(id, `${id}@example.org`);
    const token = product.token(id);
    const update = (name: string) =>
      product.graphql(`mutation($id: ID!) { updateMemberProfile(id: $id, input: { firstName: "${name}" }, expectedVersion: 1) { version } }`, {
        token,
        variables: { id },
      });
    const results = await Promise.all([update('One'), update('Two'), update('Three')]);
    const codes = results.map((r) => (r.body.errors ? r.body.errors[0]?.extensions?.code : 'OK')).sort();
    expect(codes).toEqual(['CONFLICT', 'CONFLICT', 'OK']);
    expect(await backends.store.streamVersion(`member-${id}`)).toBe(2);
  });

  it('lets admins search members by name prefix, status and tier, page by page', async () => {
    const tag = randomUUID().slice(0, 6);
    for (const [i, last] of ['Zed', 'Zimmer', 'Zuse'].entries()) {
      const { body } = await product.graphql(
        `mutation { createMember(input: { id: "s-${tag}-${i}", email: "s${i}-${tag}@example.org", firstName: "Q${tag}", lastName: "${last}" }) { id } }`,
        { token: admin() },
      );
      expect(body.errors).toBeUndefined();
    }
    const page = async (after: string | null) =>
      (
        await product.graphql(
          `query($after: String) { members(search: "q${tag}", status: NONE, tier: BASIC, first: 2, after: $after) { totalCount edges { node { lastName } } pageInfo { hasNextPage endCursor } } }`,
          { token: admin(), variables: { after } },
        )
      ).body.data as { members: { totalCount: number; edges: { node: { lastName: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const first = await eventually(async () => {
      const p = await page(null);
      return p.members.totalCount === 3 ? p : null;
    }, 'the search index to hold the three members');
    expect(first.members.edges.map((e) => e.node.lastName)).toEqual(['Zed', 'Zimmer']);
    expect(first.members.pageInfo.hasNextPage).toBe(true);
    const second = await page(first.members.pageInfo.endCursor);
    expect(second.members.edges.map((e) => e.node.lastName)).toEqual(['Zuse']);
    expect(second.members.pageInfo.hasNextPage).toBe(false);
    // And backwards from the end: the last two, then the first.
    const back = async (before: string | null) =>
      (
        await product.graphql(
          `query($before: String) { members(search: "q${tag}", last: 2, before: $before) { edges { node { lastName } } pageInfo { hasPreviousPage startCursor hasNextPage } } }`,
          { token: admin(), variables: { before } },
        )
      ).body.data as { members: { edges: { node: { lastName: string } }[]; pageInfo: { hasPreviousPage: boolean; startCursor: string; hasNextPage: boolean } } };
    const end = await back(null);
    expect(end.members.edges.map((e) => e.node.lastName)).toEqual(['Zimmer', 'Zuse']);
    expect(end.members.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const start = await back(end.members.pageInfo.startCursor);
    expect(start.members.edges.map((e) => e.node.lastName)).toEqual(['Zed']);
    expect(start.members.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });

    const forbidden = await product.graphql('{ members { totalCount } }', { token: product.token('m1') });
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
