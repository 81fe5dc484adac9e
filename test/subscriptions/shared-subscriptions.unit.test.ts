// Which client subscriptions share an upstream, on the real supergraph with a stand-in for the
// subgraph connections: identical live-from-now subscriptions share; other identities, resumes and
// fields that start with a catch-up of their own (sagaProgress, replayProgress) do not.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import pino from 'pino';
import type { Identity } from '../../platform/auth';
import { SharedSubscriptions } from '../../gateway/subscriptions/shared-subscriptions';
import { SubscriptionPlanner } from '../../gateway/subscriptions/subscription-planner';
import type { UpstreamClients, UpstreamSink } from '../../gateway/subscriptions/upstream-clients';
import { eventually } from '../support/wait';

const planner = new SubscriptionPlanner(fs.readFileSync(path.resolve(__dirname, '..', '..', 'supergraph.graphql'), 'utf8'));
const member: Identity = { sub: 'm-1', role: 'member', expiresAt: null };
const admin: Identity = { sub: 'a-1', role: 'admin', expiresAt: null };

function setup() {
  const open: { service: string; sink: UpstreamSink }[] = [];
  const upstream = {
    subscribe: (service: string, _payload: unknown, sink: UpstreamSink) => {
      const entry = { service, sink };
      open.push(entry);
      return () => open.splice(open.indexOf(entry), 1);
    },
  } as unknown as UpstreamClients;
  const shared = new SharedSubscriptions({
    planner,
    upstream,
    services: {},
    subgraphSecret: 'x'.repeat(32),
    bufferSize: 10,
    logger: pino({ level: 'silent' }),
  });
  let n = 0;
  /** What each client subscription's socket was sent, by subscription id. */
  const sent = new Map<string, string[]>();
  const subscribe = (query: string, variables: Record<string, unknown>, identity: Identity | null, cursor: string | null = null) => {
    const id = String(++n);
    const messages: string[] = [];
    sent.set(id, messages);
    const socket = {
      send: (message: string, written: (error?: Error) => void) => {
        messages.push(message);
        written();
      },
    };
    return shared.subscribe({ id, document: parse(query), operationName: undefined, variables, context: { identity, correlationId: `c-${n}` }, cursor, socket });
  };
  return { open, shared, subscribe, sent };
}

const MEMBER = 'subscription { memberUpdated(id: "m-1") { eventType cursor } }';
const SAGA = 'subscription($orderId: ID!) { sagaProgress(orderId: $orderId) { eventType cursor } }';

describe('SharedSubscriptions', () => {
  it('shares identical subscriptions of one identity, and fans each event out to all of them', async () => {
    const { open, shared, subscribe, sent } = setup();
    const a = subscribe(MEMBER, {}, member);
    const b = subscribe(`subscription { ...F } fragment F on Subscription { memberUpdated(id: "m-1") { eventType cursor } }`, {}, member);
    const c = subscribe(MEMBER, {}, member);
    expect(open).toHaveLength(2); // a and c share; b is another document
    expect(shared.upstreamCount).toBe(2);
    open[0]?.sink.next({ data: { memberUpdated: { eventType: 'member.created', cursor: '7' } }, extensions: { cursor: '7' } });
    // Each client gets the graphql-ws `next` message under its own subscription id.
    await eventually(() => sent.get('3')?.length === 1, 'the event at the third client');
    const payload = { data: { memberUpdated: { eventType: 'member.created', cursor: '7' } }, extensions: { cursor: '7' } };
    expect(sent.get('1')?.map((m) => JSON.parse(m) as unknown)).toEqual([{ id: '1', type: 'next', payload }]);
    expect(sent.get('3')?.map((m) => JSON.parse(m) as unknown)).toEqual([{ id: '3', type: 'next', payload }]);
    expect(sent.get('2')).toEqual([]);
    await Promise.all([a.return?.(), b.return?.(), c.return?.()]);
    expect(open).toHaveLength(0);
    expect(shared.upstreamCount).toBe(0);
  });

  it('keeps identities apart (anonymous callers are one of their own) and never shares a resume', () => {
    const { open, subscribe } = setup();
    subscribe(MEMBER, {}, member);
    subscribe(MEMBER, {}, admin);
    subscribe(MEMBER, {}, null);
    subscribe(MEMBER, {}, null); // shares with the other anonymous one
    subscribe(MEMBER, {}, member, '41');
    expect(open).toHaveLength(4);
  });

  it('never shares a field whose fresh subscription starts with a catch-up (sagaProgress)', () => {
    const { open, subscribe } = setup();
    subscribe(SAGA, { orderId: 'o-1' }, member);
    subscribe(SAGA, { orderId: 'o-1' }, member);
    expect(open.map((o) => o.service)).toEqual(['payment', 'payment']);
  });
});
