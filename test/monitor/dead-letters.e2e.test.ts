// A consumer's dead letters through the gateway: listed on eventMonitor with their reasons, requeued
// or discarded by admins (each recorded as an event naming who), refused to members, unknown ones
// answered NOT_FOUND.
import { makeInvalidEnvelope } from '../support/envelopes';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

const SAMPLE = `{ eventMonitor { consumers { name deadLetters deadLetterSample(size: 10) { id eventId eventType reason attempts } } } }`;

interface Sample {
  name: string;
  deadLetters: number | null;
  deadLetterSample: { id: string; eventId: string; eventType: string; reason: string; attempts: number }[];
}

describe('dead letters through the gateway', () => {
  let product: RunningProduct;
  const admin = () => product.token('ops-1', 'admin');
  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  async function crm(): Promise<Sample | undefined> {
    const { body } = await product.graphql(SAMPLE, { token: admin() });
    return (body.data as { eventMonitor: { consumers: Sample[] } }).eventMonitor.consumers.find((c) => c.name === 'crm');
  }

  async function audit(): Promise<{ type: string; eventId: string; actor: string | null; reason?: string }[]> {
    const out: { type: string; eventId: string; actor: string | null; reason?: string }[] = [];
    for await (const batch of product.backends.store.readAll({ types: ['dead.letter.requeued', 'dead.letter.discarded'] })) {
      for (const e of batch) out.push({ type: e.type, eventId: (e.payload as { eventId: string }).eventId, actor: e.actor ? `${e.actor.role}:${e.actor.id}` : null, ...('reason' in e.payload ? { reason: e.payload.reason } : {}) });
    }
    return out;
  }

  it('lists dead letters with their reasons, requeues one and discards another, recording who did it', async () => {
    const [first, second] = [makeInvalidEnvelope('member.created', { memberId: 'm-x', email: 'bad' }), makeInvalidEnvelope('member.created', { memberId: 'm-y', email: 'bad' })];
    await product.backends.bus.publish([first, second]);
    const listed = await eventually(async () => {
      const c = await crm();
      return c && c.deadLetterSample.length === 2 ? c : null;
    }, 'both dead letters listed');
    expect(listed.deadLetters).toBe(2);
    expect(listed.deadLetterSample.map((d) => d.eventId).sort()).toEqual([first.id, second.id].sort());
    expect(listed.deadLetterSample[0]).toMatchObject({ eventType: 'member.created', attempts: 1, reason: expect.stringMatching(/^INVALID_EVENT/) });

    const discarded = await product.graphql(`mutation($id: ID!) { discardDeadLetter(consumer: "crm", eventId: $id, reason: "test data") { eventId reason } }`, {
      token: admin(),
      variables: { id: second.id },
    });
    expect(discarded.body).toEqual({ data: { discardDeadLetter: { eventId: second.id, reason: expect.stringMatching(/^INVALID_EVENT/) } } });
    const requeued = await product.graphql(`mutation($id: ID!) { requeueDeadLetter(consumer: "crm", eventId: $id) { eventId } }`, { token: admin(), variables: { id: first.id } });
    expect(requeued.body.errors).toBeUndefined();

    expect(await audit()).toEqual([
      { type: 'dead.letter.discarded', eventId: second.id, actor: 'admin:ops-1', reason: 'test data' },
      { type: 'dead.letter.requeued', eventId: first.id, actor: 'admin:ops-1' },
    ]);
    // The requeued one went through the queue again (still invalid: dead again); the discarded one is gone.
    const after = await eventually(async () => {
      const c = await crm();
      return c && c.deadLetterSample.length === 1 ? c : null;
    }, 'the requeued letter back, the discarded one gone');
    expect(after.deadLetterSample.map((d) => d.eventId)).toEqual([first.id]);
  });

  it('refuses members, an unknown letter, a blank reason and a malformed consumer with coded errors', async () => {
    const member = await product.graphql(`mutation { requeueDeadLetter(consumer: "crm", eventId: "e-1") { id } }`, { token: product.token('m-1', 'member') });
    expect(member.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const unknown = await product.graphql(`mutation { requeueDeadLetter(consumer: "crm", eventId: "no-such-letter") { id } }`, { token: admin() });
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'eventId' });
    const blank = await product.graphql(`mutation { discardDeadLetter(consumer: "crm", eventId: "e-1", reason: "  ") { id } }`, { token: admin() });
    expect(blank.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const consumer = await product.graphql(`mutation { requeueDeadLetter(consumer: "../crm", eventId: "e-1") { id } }`, { token: admin() });
    expect(consumer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'consumer' });
  });
});
