// The event monitor through the gateway (admins only) and as Prometheus metrics.
import { randomUUID } from 'node:crypto';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

interface MonitorData {
  eventMonitor: {
    headPosition: number;
    deadLetterTotal: number;
    consumers: { name: string; queue: string | null; kind: string; position: number; lag: number; processed: number | null; deadLetters: number | null }[];
    types: { type: string; published: number; consumed: number; deadLettered: number }[];
  };
}

const QUERY = `{ eventMonitor { headPosition deadLetterTotal consumers { name queue kind position lag processed deadLetters } types { type published consumed deadLettered } } }`;

describe('event monitor', () => {
  let product: RunningProduct;
  const prefix = `m${randomUUID().slice(0, 6)}.`;
  beforeAll(async () => {
    product = await startProduct({ env: { QUEUE_PREFIX: prefix } });
  });
  afterAll(async () => {
    await product.close();
  });

  it('shows each consumer and follower catching up to the head, and traffic per type', async () => {
    const { body } = await product.graphql(
      `mutation { createMember(input: { id: "mon-1", email: "mon-1@example.org", firstName: "Mo", lastName: "Nitor" }) { id } }`,
      { token: product.token('admin', 'admin') },
    );
    expect(body.errors).toBeUndefined();
    const data = await eventually(async () => {
      const { body: b } = await product.graphql(QUERY, { token: product.token('admin', 'admin') });
      const m = (b.data as MonitorData | undefined)?.eventMonitor;
      const crm = m?.consumers.find((c) => c.name === 'crm');
      // Followers write their position behind (within 100 ms): they are listed once it is written.
      const followersListed = ['outbox-relay', 'member-read-model'].every((name) => m?.consumers.some((c) => c.name === name));
      // Traffic counts are written behind too (within 250 ms).
      const counted = m?.types.some((t) => t.type === 'member.created' && t.published >= 1 && t.consumed >= 1);
      return m && crm && crm.processed === 1 && followersListed && counted && m.consumers.every((c) => c.lag === 0) ? m : null;
    }, 'every consumer and follower to process the member.created event');
    expect(data.headPosition).toBeGreaterThanOrEqual(1);
    // Consumers by the names replays take (`crm`), their queues with the deployment's prefix beside.
    expect(data.consumers.map((c) => c.name)).toEqual(expect.arrayContaining(['crm', 'email', 'audit', 'outbox-relay', 'member-read-model']));
    expect(data.consumers.find((c) => c.name === 'crm')).toMatchObject({ kind: 'CONSUMER', queue: `${prefix}crm` });
    expect(data.consumers.find((c) => c.name === 'outbox-relay')).toMatchObject({ kind: 'FOLLOWER', queue: null });
    expect(data.consumers.every((c) => !c.name.startsWith(prefix))).toBe(true);
    expect(data.types.find((t) => t.type === 'member.created')).toMatchObject({ published: expect.any(Number), consumed: expect.any(Number) });
    expect(data.types.find((t) => t.type === 'member.created')!.published).toBeGreaterThanOrEqual(1);
  });

  it('counts an invalid message in the consumers\' dead-letter queues', async () => {
    const [stored] = await product.backends.store.readStream('member-mon-1');
    const broken = { ...stored!, id: randomUUID(), payload: { memberId: 'mon-1' } } as unknown as AnyEventEnvelope;
    await product.backends.bus.publish([broken]);
    const data = await eventually(async () => {
      const { body } = await product.graphql(QUERY, { token: product.token('admin', 'admin') });
      const m = (body.data as MonitorData | undefined)?.eventMonitor;
      return m && (m.consumers.find((c) => c.name === 'audit')?.deadLetters ?? 0) >= 1 ? m : null;
    }, 'the invalid message to be dead-lettered');
    expect(data.deadLetterTotal).toBeGreaterThanOrEqual(4);
  });

  it('is for admins only', async () => {
    const { body } = await product.graphql(QUERY, { token: product.token('m1') });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('serves Prometheus metrics with traffic, lag and dead-letter depth', async () => {
    const text = await (await fetch(`${new URL(product.gateway.url).origin}/metrics`)).text();
    expect(text).toMatch(/membership_events_published_total\{type="member.created"\} \d+/);
    expect(text).toMatch(/membership_deliveries_total\{queue="[^"]+",type="member.created",outcome="dead-letter"\}/);
    expect(text).toMatch(/membership_consumer_lag_events\{consumer="outbox-relay"\} 0/);
    expect(text).toMatch(/membership_dead_letter_depth\{queue="[^"]+audit"\} [1-9]/);
  });
});
