// `eventFlow` through the gateway: every event for admins, filtered by type or by correlation id
// (a request's causation chain, read from the store from cursor 0), refused to members, and bad
// type names refused with the coded error naming the argument.
import type { Client } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { startProduct, type RunningProduct } from '../support/product';
import { gatewayClient, subscribe, type Collector, type Received } from './support/ws-client';

const FLOW = `subscription($types: [String!], $correlationId: ID) { eventFlow(types: $types, correlationId: $correlationId) {
  eventType streamId position cursor correlationId causationId id actor payloadJson } }`;

interface Flow {
  eventType: string;
  streamId: string;
  position: number;
  cursor: string;
  correlationId: string;
  causationId: string | null;
  id: string;
  actor: string | null;
  payloadJson: string;
}

describe('eventFlow subscription', () => {
  let product: RunningProduct;
  const clients: Client[] = [];
  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await product.close();
  });

  function watch(token: string, variables: Record<string, unknown>, cursor?: string): Collector {
    const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { authorization: `Bearer ${token}` });
    clients.push(client);
    return subscribe(client, { query: FLOW, variables, ...(cursor !== undefined ? { extensions: { cursor } } : {}) });
  }
  const admin = () => product.token('admin-1', 'admin');
  async function next(sub: Collector): Promise<Flow> {
    const item: Received = await sub.take('an eventFlow update');
    if (item.kind !== 'next' || item.errors) throw new Error(`unexpected ${JSON.stringify(item)}`);
    return (item.data as { eventFlow: Flow }).eventFlow;
  }
  async function createMember(correlationId: string): Promise<string> {
    const id = `m-${randomUUID().slice(0, 8)}`;
    const { body } = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token: product.token(id),
      headers: { 'x-correlation-id': correlationId },
      variables: { input: { email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } },
    });
    expect(body.errors).toBeUndefined();
    return id;
  }

  it('replays one request\'s causation chain from cursor 0: the command\'s event first, its reactions caused by it', async () => {
    const correlationId = `flow-${randomUUID()}`;
    const other = await createMember(`other-${randomUUID()}`);
    const id = await createMember(correlationId);
    const chain = watch(admin(), { correlationId }, '0');
    const first = await next(chain);
    expect(first).toMatchObject({ eventType: 'member.created', streamId: `member-${id}`, correlationId, causationId: null, actor: `member:${id}` });
    expect(JSON.parse(first.payloadJson)).toMatchObject({ memberId: id, email: `${id}@example.org` });
    const reaction = await next(chain);
    expect(reaction.correlationId).toBe(correlationId);
    expect(reaction.causationId).toBe(first.id);
    expect(reaction.position).toBeGreaterThan(first.position);
    expect(reaction.cursor).toBe(String(reaction.position));
    expect([first.streamId, reaction.streamId].join(' ')).not.toContain(other);
  });

  it('pushes live events of the given types only', async () => {
    const head = await product.backends.store.headPosition();
    const sub = watch(admin(), { types: ['member.created'] }, String(head));
    const id = await createMember(`live-${randomUUID()}`);
    expect(await next(sub)).toMatchObject({ eventType: 'member.created', streamId: `member-${id}` });
    const id2 = await createMember(`live-${randomUUID()}`);
    // The reactions to the first member (sync.completed, email.sent) are not of the type: skipped.
    expect(await next(sub)).toMatchObject({ eventType: 'member.created', streamId: `member-${id2}` });
  });

  it('is refused to members, and refuses an unknown event type naming the argument', async () => {
    const forbidden = await watch(product.token('m-1', 'member'), {}).take('the refusal');
    expect(forbidden).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const unknown = await watch(admin(), { types: ['member.exploded'] }).take('the refusal');
    expect(unknown).toMatchObject({ kind: 'error', errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'types' } }] });
  });
});
