// The product as it is deployed: every service of docker-compose.yml started as that file says
// (its command, its environment, NODE_ENV=production, real secrets, every RabbitMQ name at its
// default), one process per service, on real RabbitMQ and the embedded store (or MongoDB when
// MONGODB_URI is set). Through the gateway, with real clients, one pass of every seed flow. A change
// to the compose file that breaks the deployment (a wrong command, a missing variable) fails here.
// Needs `npm run build` first (the test script does it).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { mintClientToken, type Role } from '../../platform/auth';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startDeployment, type Deployment } from '../support/deployment';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe, type Collector } from '../subscriptions/support/ws-client';

jest.setTimeout(240_000);

type Errors = { message: string; extensions?: Record<string, unknown> }[];

describe('the deployment of docker-compose.yml, one process per service, in production mode', () => {
  let deployment: Deployment;
  const clients: Client[] = [];
  // What a user exports before `docker compose up`: two real secrets of 64 hex characters.
  const hostEnv = { JWT_SECRET: randomBytes(32).toString('hex'), SUBGRAPH_SECRET: randomBytes(32).toString('hex') };

  const token = (sub: string, role: Role = 'member') => mintClientToken({ sub, role }, hostEnv.JWT_SECRET, { expiresInSeconds: 600 });
  const admin = () => token('ops-admin', 'admin');

  async function graphql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, bearer: string, headers: Record<string, string> = {}) {
    const response = await fetch(deployment.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: Errors };
    return { status: response.status, body };
  }

  async function ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, bearer: string, headers: Record<string, string> = {}): Promise<T> {
    const { body } = await graphql<T>(query, variables, bearer, headers);
    if (body.errors) throw new Error(`${query.slice(0, 60)}... answered ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  function watch(bearer: string, query: string, variables: Record<string, unknown>, extensions?: Record<string, unknown>): Collector {
    const client = gatewayClient(deployment.gatewayUrl.replace(/^http/, 'ws'), { token: bearer });
    clients.push(client);
    return subscribe(client, { query, variables, ...(extensions ? { extensions } : {}) });
  }

  /** Every `next` of a subscription until it completes (or `done` says the last one came). */
  async function collect<T>(sub: Collector, field: string, done: (item: T) => boolean = () => false, what = field): Promise<T[]> {
    const seen: T[] = [];
    for (;;) {
      const item = await sub.take(`${what} (after ${seen.length})`, 60_000);
      if (item.kind === 'complete') return seen;
      if (item.kind !== 'next' || item.errors) throw new Error(`${what}: unexpected ${JSON.stringify(item)}`);
      const value = (item.data as Record<string, T>)[field] as T;
      seen.push(value);
      if (done(value)) return seen;
    }
  }

  async function newMember(label: string): Promise<string> {
    const id = `${label}-${randomUUID().slice(0, 8)}`;
    await ok(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, { input: { email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } }, token(id));
    return id;
  }

  beforeAll(async () => {
    deployment = await startDeployment({ hostEnv });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    if (!deployment) return;
    const codes = await deployment.stop();
    // Every service drained and exited 0 on SIGTERM, saying so.
    expect(codes).toEqual(Object.fromEntries([...deployment.services.keys()].map((name) => [name, 0])));
    for (const name of deployment.services.keys()) {
      expect({ name, stopped: deployment.logs.some((l) => l.service === name && l.json?.msg === 'stopped cleanly') }).toEqual({ name, stopped: true });
    }
    // And nothing was logged at error level by any of them, from start to stop.
    expect(deployment.errors().map((l) => `${l.service}: ${l.text}`)).toEqual([]);
    // Logs are structured: every line a service wrote is pino's JSON.
    expect(deployment.logs.filter((l) => l.json === null).map((l) => `${l.service}: ${l.text}`)).toEqual([]);
  });

  it('runs each service as its own process in production mode, with the default RabbitMQ names', () => {
    expect([...deployment.services.keys()].sort()).toEqual(['analytics', 'certification', 'gateway', 'member', 'payment', 'worker']);
    for (const service of deployment.services.values()) {
      expect({ service: service.name, NODE_ENV: service.env.NODE_ENV }).toEqual({ service: service.name, NODE_ENV: 'production' });
      expect({ service: service.name, exchange: service.env.RABBITMQ_EXCHANGE, prefix: service.env.QUEUE_PREFIX }).toEqual({ service: service.name, exchange: undefined, prefix: undefined });
      expect(service.env.JWT_SECRET).toBe(hostEnv.JWT_SECRET);
    }
    const pids = [...deployment.services.values()].map((s) => s.child.pid);
    expect(new Set(pids).size).toBe(6);
  });

  it('is ready: the gateway reaches every subgraph', async () => {
    const ready = await fetch(deployment.gatewayUrl.replace(/\/graphql$/, '/ready'));
    expect(ready.status).toBe(200);
  });

  it('real-time member update: the mutation answers, then CRM sync and email follow from the worker', async () => {
    const id = await newMember('upd');
    const updated = await ok<{ updateMemberProfile: { firstName: string; version: number } }>(
      `mutation($id: ID!) { updateMemberProfile(id: $id, input: { firstName: "Augusta" }, expectedVersion: 1) { firstName version } }`,
      { id },
      token(id),
    );
    expect(updated.updateMemberProfile).toEqual({ firstName: 'Augusta', version: 2 });
    const member = await eventually(async () => {
      const data = await ok<{ member: { crmSync: { upToDate: boolean; firstName: string } | null; emails: { edges: { node: { subject: string } }[] } } }>(
        `query($id: ID!) { member(id: $id) { crmSync { firstName upToDate } emails { edges { node { subject } } } } }`,
        { id },
        token(id),
      );
      return data.member.crmSync?.upToDate && data.member.emails.edges.length >= 2 ? data.member : null;
    }, 'the CRM sync and the emails', 30_000);
    expect(member.crmSync).toMatchObject({ firstName: 'Augusta' });
    expect(member.emails.edges.map((e) => e.node.subject)).toEqual(['Welcome to the organisation', 'Your profile was updated']);
  });

  it('a paid order: its saga runs to COMPLETED, watched over WebSocket with sagaProgress, every step under the request\'s correlation id', async () => {
    const id = await newMember('buyer');
    const correlationId = `deploy-${randomUUID()}`;
    const created = await ok<{ createOrder: { id: string; status: string } }>(
      `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id status } }`,
      { input: { items: [{ sku: 'MEM-VIP-12', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
      token(id),
      { 'x-correlation-id': correlationId },
    );
    const steps = await collect<{ eventType: string; status: string; correlationId: string; order: { status: string; member: { email: string } } }>(
      watch(token(id), `subscription($orderId: ID!) { sagaProgress(orderId: $orderId) { eventType status terminal correlationId order { status member { email } } } }`, { orderId: created.createOrder.id }),
      'sagaProgress',
    );
    expect(steps.map((s) => s.eventType)).toEqual([
      'order.created', 'payment.initiated', 'payment.authorized', 'payment.completed', 'inventory.reserve', 'inventory.reserved',
      'shipping.create', 'shipment.created', 'order.completed',
    ]);
    // The request's correlation id went with every event it caused, through the worker's consumers
    // and the bus, back to this subscriber.
    expect(new Set(steps.map((s) => s.correlationId))).toEqual(new Set([correlationId]));
    expect(steps.at(-1)).toMatchObject({ status: 'SUCCEEDED', order: { status: 'COMPLETED', member: { email: `${id}@example.org` } } });
    // The payment flow's downstream: the paid membership is activated by the worker.
    await eventually(async () => (await ok<{ member: { tier: string } }>(`query($id: ID!) { member(id: $id) { tier } }`, { id }, token(id))).member.tier === 'VIP', 'the VIP membership', 30_000);
  });

  it('a certification from application to ACTIVE, every transition pushed by certificationLifecycle', async () => {
    const id = await newMember('cert');
    const applied = await ok<{ applyForCertification: { id: string } }>(
      `mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id status } }`,
      { input: { certType: 'CPA', documents: [{ name: 'Transcript', url: 'https://files.example.org/transcript.pdf' }] } },
      token(id),
    );
    const certId = applied.applyForCertification.id;
    // From the start of the store: the application and every transition after it, none missed.
    const lifecycle = watch(admin(), `subscription($id: ID!) { certificationLifecycle(id: $id) { eventType toState certification { status member { id } } } }`, { id: certId }, { cursor: '0' });
    for (const mutation of ['startCertificationReview', 'approveCertification', 'issueCertification', 'activateCertification']) {
      await ok(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id: certId }, admin());
    }
    const updates = await collect<{ eventType: string; toState: string; certification: { status: string; member: { id: string } } }>(
      lifecycle,
      'certificationLifecycle',
      (u) => u.toState === 'ACTIVE',
    );
    expect(updates.map((u) => u.eventType)).toEqual([
      'certification.applied', 'certification.review.started', 'certification.approved', 'certification.issued', 'certification.activated',
    ]);
    expect(updates.at(-1)?.certification).toEqual({ status: 'ACTIVE', member: { id } });
  });

  it('a replay of a time range to the CRM consumer, its progress streamed by replayProgress to completion', async () => {
    const from = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const id = await newMember('replay');
    // The range ends now; the member above is in it.
    const to = await eventually(async () => {
      const now = new Date().toISOString();
      return now > from ? now : null;
    }, 'the clock to pass the member');
    const started = await ok<{ startReplay: { id: string } }>(
      `mutation($input: StartReplayInput!) { startReplay(input: $input) { id status } }`,
      { input: { from, to, targets: ['crm'] } },
      admin(),
    );
    const updates = await collect<{ status: string; final: boolean; processed: number; total: number; stats: { events: number; errors: number } | null }>(
      watch(admin(), `subscription($id: ID!) { replayProgress(id: $id) { status final processed total stats { events errors } } }`, { id: started.startReplay.id }),
      'replayProgress',
    );
    const last = updates.at(-1);
    expect(last).toMatchObject({ status: 'COMPLETED', final: true, stats: { errors: 0 } });
    expect(last?.processed).toBe(last?.total);
    expect(last?.stats?.events).toBeGreaterThan(0);
    expect(id).toBeTruthy();
  });

  it('the event monitor (in the analytics service) shows the whole deployment: events the worker published and consumed', async () => {
    // Published by the worker process's consumers in the flows above; the monitor runs elsewhere.
    const workerPublished = ['sync.completed', 'email.sent', 'payment.authorized', 'inventory.reserved', 'membership.activated', 'notification.sent', 'transaction.recorded'];
    const traffic = await eventually(async () => {
      const data = await ok<{ eventMonitor: { types: { type: string; published: number; consumed: number }[] } }>(
        `{ eventMonitor { types { type published consumed } } }`,
        {},
        admin(),
      );
      const byType = new Map(data.eventMonitor.types.map((t) => [t.type, t]));
      return workerPublished.every((type) => (byType.get(type)?.published ?? 0) > 0) ? byType : null;
    }, 'the monitor to count what the worker published', 30_000);
    for (const type of workerPublished) expect({ type, published: traffic.get(type)?.published }).toEqual({ type, published: expect.any(Number) });
    // Consumed in the worker (the CRM consumer takes member.created): counted too.
    expect(traffic.get('member.created')?.consumed).toBeGreaterThan(0);
  });

  it('an activity reaches the analytics read model (the stream processor in the analytics service)', async () => {
    const id = await newMember('active');
    const before = await ok<{ analyticsStatus: { processed: number } }>(`{ analyticsStatus { processed } }`, {}, admin());
    // One activity now (into an open window) and one long past its window (kept aside as late).
    const occurredLate = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    await ok(`mutation($input: ActivityInput!) { trackActivity(input: $input) { eventId } }`, { input: { memberId: id, type: 'MEMBER_LOGIN', location: 'Ghent' } }, token(id));
    const late = await ok<{ trackActivity: { eventId: string } }>(
      `mutation($input: ActivityInput!) { trackActivity(input: $input) { eventId } }`,
      { input: { memberId: id, type: 'MEMBER_LOGIN', occurredAt: occurredLate } },
      token(id),
    );
    const seen = await eventually(async () => {
      const data = await ok<{ analyticsStatus: { processed: number; openWindows: number }; lateActivity: { edges: { node: { eventId: string; memberId: string } }[] } }>(
        `{ analyticsStatus { processed openWindows } lateActivity(first: 100) { edges { node { eventId memberId } } } }`,
        {},
        admin(),
      );
      return data.lateActivity.edges.some((l) => l.node.eventId === late.trackActivity.eventId) ? data : null;
    }, 'the activity to be processed', 30_000);
    expect(seen.analyticsStatus.processed).toBeGreaterThanOrEqual(before.analyticsStatus.processed + 2);
    expect(seen.analyticsStatus.openWindows).toBeGreaterThanOrEqual(1);
  });
});
