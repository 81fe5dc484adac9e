// A replay started through the gateway and watched live over graphql-ws, on the embedded store and
// real RabbitMQ (random QUEUE_PREFIX): exactly the range, no email or CRM push repeated, live traffic
// untouched, throttled progress to the final stats, temporary exchange and queues gone afterwards;
// a projection rebuild swapped in; coded refusals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import type { Client } from 'graphql-ws';
import { createBackends, type Backends } from '../../messaging/backends';
import { membersCollection } from '../../subgraphs/member/projections/member-read-model';
import { loadConfig } from '../../platform/config';
import type { Mailer, OutgoingEmail } from '../../subgraphs/member/consumers/mailer';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';
import { useTestVhost } from '../support/rabbit';

const broker = useTestVhost('replay');

class CountingMailer implements Mailer {
  readonly transport = 'mailbox' as const;
  readonly sent: OutgoingEmail[] = [];
  async send(email: OutgoingEmail): Promise<void> {
    this.sent.push(email);
  }
  async close(): Promise<void> {}
}

const REPLAY_FIELDS = 'id status kind events processed total errors stats { events processed total errors durationMs ratePerSecond targets { name total processed errors } }';
const PROGRESS = `subscription($id: ID!) { replayProgress(id: $id) {
  eventType occurredAt cursor status processed total ratePerSecond estimatedSecondsLeft errors final
  targets { name processed total }
  stats { events processed errors durationMs targets { name processed errors } }
  replay { id status targets }
} }`;

describe('replay through the gateway (embedded store, RabbitMQ)', () => {
  let product: RunningProduct;
  let backends: Backends;
  let dataDir: string;
  let amqp: Connection;
  const mailer = new CountingMailer();
  const clients: Client[] = [];
  const admin = () => product.token('admin-1', 'admin');

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-e2e-'));
    const env = { DATA_DIR: dataDir, RABBITMQ_URL: broker.url, FOLLOWER_POLL_MS: '20' };
    backends = await createBackends(loadConfig(env));
    product = await startProduct({ env, backends, mailer });
    amqp = new Connection({ url: broker.url });
    amqp.on('error', () => undefined);
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await product.close();
    await backends.close();
    await amqp.close();
    await broker.delete();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // Counts are over the members each test creates (the file's tests share one product).
  const ours = new Set<string>();
  const ourMails = () => mailer.sent.filter((m) => ours.has(m.to.replace(/@example\.org$/, '')));

  async function createMember(id: string) {
    ours.add(id);
    const { body } = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token: product.token(id),
      variables: { input: { email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } },
    });
    expect(body.errors).toBeUndefined();
  }
  const storedCount = async (type: 'email.sent' | 'sync.completed') => {
    let n = 0;
    for await (const batch of backends.store.readAll({ types: [type] })) n += batch.filter((e) => ours.has((e.payload as { memberId: string }).memberId)).length;
    return n;
  };
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('refuses non-admins, unknown targets, empty and future ranges, naming the field', async () => {
    const input = { from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z', targets: ['crm'] };
    const start = (variables: Record<string, unknown>, token = admin()) =>
      product.graphql(`mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }`, { token, variables: { input: variables } });
    expect((await start(input, product.token('m-1'))).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = (await start({ ...input, targets: ['nope'] })).body.errors?.[0];
    expect(unknown?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'targets' });
    expect((await start({ ...input, from: input.to, to: input.from })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    expect((await start({ ...input, to: '2999-01-01T00:00:00.000Z' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  });

  it('replays a range to crm and email alongside live mutations: exactly the range, nothing sent twice, progress to the final stats', async () => {
    await createMember(`before-${randomUUID().slice(0, 6)}`);
    await tick();
    const from = new Date().toISOString();
    const inRange = Array.from({ length: 4 }, () => `in-${randomUUID().slice(0, 6)}`);
    for (const id of inRange) await createMember(id);
    await tick();
    const to = new Date().toISOString();
    await tick();
    await eventually(() => ourMails().length >= 5, 'the live emails');
    await eventually(async () => (await storedCount('sync.completed')) >= 5, 'the live CRM syncs');
    const mailsBefore = ourMails().length;
    const syncsBefore = await storedCount('sync.completed');

    const { body } = await product.graphql(`mutation($input: StartReplayInput!) { startReplay(input: $input) { id status } }`, {
      token: admin(),
      variables: { input: { from, to, targets: ['crm', 'email'] } },
    });
    expect(body.errors).toBeUndefined();
    const { id, status } = (body.data as { startReplay: { id: string; status: string } }).startReplay;
    expect(status).toBe('PENDING');
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { token: admin() });
    clients.push(client);
    const progress = subscribe(client, { query: PROGRESS, variables: { id } });
    // Live traffic during the replay.
    const live = `live-${randomUUID().slice(0, 6)}`;
    await createMember(live);

    type Update = { eventType: string; status: string; processed: number; total: number; final: boolean; stats: { events: number; errors: number; targets: { name: string; processed: number }[] } | null };
    const updates: Update[] = [];
    for (;;) {
      const item = await progress.take('a replay progress update', 20_000);
      if (item.kind === 'complete') break;
      if (item.kind !== 'next' || item.errors) throw new Error(`unexpected ${JSON.stringify(item)}`);
      updates.push((item.data as { replayProgress: Update }).replayProgress);
    }
    expect(updates[0]?.eventType).toBe('replay.started');
    const last = updates.at(-1);
    expect(last).toMatchObject({ eventType: 'replay.completed', status: 'COMPLETED', final: true, processed: 8, total: 8 });
    expect(last?.stats).toMatchObject({ events: 4, errors: 0 });
    expect(last?.stats?.targets.map((t) => [t.name, t.processed]).sort()).toEqual([['crm', 4], ['email', 4]]);

    // Live mail arrived; the replay sent none and pushed nothing to the CRM.
    await eventually(() => mailer.sent.some((m) => m.to === `${live}@example.org`), 'the live member email');
    await eventually(async () => (await storedCount('sync.completed')) === syncsBefore + 1, 'the live CRM sync');
    expect(ourMails().length).toBe(mailsBefore + 1);
    expect(await storedCount('email.sent')).toBe(ourMails().length);

    const replay = await product.graphql(`query($id: ID!) { replay(id: $id) { ${REPLAY_FIELDS} } replays { edges { node { id } } } }`, { token: admin(), variables: { id } });
    expect(replay.body.data).toMatchObject({ replay: { id, status: 'COMPLETED', events: 4, stats: { events: 4, errors: 0 } }, replays: { edges: expect.arrayContaining([{ node: { id } }]) } });

    // The temporary exchange and queues are gone.
    await expect(amqp.exchangeDeclare({ exchange: `replay.${id}`, type: 'topic', passive: true })).rejects.toBeDefined();
    for (const target of ['crm', 'email']) {
      await expect(amqp.queueDeclare({ queue: `${product.config.QUEUE_PREFIX}replay.${id}.${target}`, passive: true })).rejects.toBeDefined();
    }
  });

  it('rebuilds the member read model into a new version equal to the live one and swaps it in', async () => {
    const id = `rb-${randomUUID().slice(0, 6)}`;
    await createMember(id);
    await eventually(async () => (await product.graphql(`query($id: ID!) { member(id: $id) { id } }`, { token: admin(), variables: { id } })).body.data, 'the member in the read model');
    await eventually(async () => (await membersCollection(backends.documents, 'members').get(id)) !== null, 'the live projection');
    const before = await membersCollection(backends.documents, 'members').find();
    const { body } = await product.graphql(`mutation { rebuildProjection(name: "member-read-model") { id kind } }`, { token: admin() });
    expect(body.errors).toBeUndefined();
    const replayId = (body.data as { rebuildProjection: { id: string } }).rebuildProjection.id;
    const done = await eventually(async () => {
      const r = await product.graphql(`query($id: ID!) { replay(id: $id) { status } }`, { token: admin(), variables: { id: replayId } });
      const s = (r.body.data as { replay: { status: string } } | undefined)?.replay.status;
      return s && s !== 'PENDING' && s !== 'RUNNING' ? s : null;
    }, 'the rebuild', 20_000);
    expect(done).toBe('COMPLETED');
    expect(await membersCollection(backends.documents, 'members_v2').find()).toEqual(before);
    const after = await product.graphql(`query($id: ID!) { member(id: $id) { id email } }`, { token: admin(), variables: { id } });
    expect(after.body.data).toEqual({ member: { id, email: `${id}@example.org` } });
  });
});
