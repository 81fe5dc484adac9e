// Starts what a subscription test needs, on free ports: member subgraph instance(s) serving
// `memberUpdated` (Member resolved by a stand-in reference resolver: the test owns its data), a
// "probe" subgraph contributing `Member.probe` (so payloads cross two subgraphs), a supergraph
// composed from them, and gateway(s). Events are appended to a shared store and published.
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { mintClientToken, type Role } from '../../../platform/auth';
import { loadConfig } from '../../../platform/config';
import type { EventBus } from '../../../messaging/bus/event-bus';
import { InProcessEventBus } from '../../../messaging/bus/in-process-bus';
import type { AnyEventEnvelope, AnyNewEvent } from '../../../messaging/events/envelope';
import type { EventStore } from '../../../messaging/store/event-store';
import { MemoryEventStore } from '../../../messaging/store/memory-event-store';
import { buildFederatedSchema } from '../../../subgraphs/common/build-federated-schema';
import type { SubgraphContext } from '../../../subgraphs/common/context';
import { topicsNotSupported } from '../../../subgraphs/common/subscription-payload';
import { startSubgraphServer, type RunningServer, type SubgraphName } from '../../../subgraphs/common/subgraph-server';
import { MemberUpdateResolver, memberUpdateEventTypes } from '../../../subgraphs/member/graphql/member-update.resolver';
import { Member } from '../../../subgraphs/member/graphql/member.type';
import { ViewerResolver } from '../../../subgraphs/member/graphql/viewer.resolver';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../../gateway/gateway-server';

const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1' });

export interface HarnessOptions {
  /** One per member subgraph instance (each gets its own live queue on it); default one in-process bus. */
  readonly buses?: readonly EventBus[];
  readonly store?: EventStore;
  /** Gateways to start; gateway i talks to member instance i % instances. Default 1. */
  readonly gateways?: number;
  readonly gatewaySubscriptions?: GatewayOptions['subscriptions'];
  /** The gateways' limits on operations (defaultQueryLimits when absent). */
  readonly gatewayQueryLimits?: GatewayOptions['queryLimits'];
  readonly subgraphBufferSize?: number;
}

export interface Harness {
  readonly store: EventStore;
  readonly buses: readonly EventBus[];
  readonly gateways: RunningGateway[];
  readonly members: RunningServer[];
  readonly jwtSecret: string;
  token(sub: string, role?: Role, options?: { expiresInSeconds?: number; nowSeconds?: number }): string;
  wsUrl(gateway?: number): string;
  /** Stop member subgraph instance `index` (its upstream subscriptions drop); close() skips it. */
  stopMember(index?: number): Promise<void>;
  /** Append one member event to the store and publish it (as the outbox relay would). */
  emit(memberId: string, type?: (typeof memberUpdateEventTypes)[number]): Promise<AnyEventEnvelope>;
  close(): Promise<void>;
}

async function memberSchema() {
  return buildFederatedSchema({
    resolvers: [ViewerResolver, MemberUpdateResolver],
    orphanedTypes: [Member],
    pubSub: topicsNotSupported,
    referenceResolvers: {
      Member: { __resolveReference: (reference: { id: string }) => Object.assign(new Member(), { id: reference.id }) },
    },
  });
}

function probeSchema() {
  return buildSubgraphSchema({
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Member @key(fields: "id") {
        id: ID!
        "Owned by the probe subgraph: says which member it saw, and for whom (the forwarded identity)."
        probe: String!
      }
    `),
    resolvers: {
      Member: {
        __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
        probe: (member: { id: string }, _args: unknown, ctx: SubgraphContext) => `probe:${member.id}:for:${ctx.identity?.sub ?? 'anonymous'}`,
      },
    } as never,
  });
}

function newEvent(memberId: string, type: (typeof memberUpdateEventTypes)[number]): AnyNewEvent {
  switch (type) {
    case 'member.created':
      return { type, payload: { memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' } };
    case 'member.profile.updated':
      return { type, payload: { memberId, changes: { firstName: { before: 'Ada', after: 'Augusta' } } } };
    case 'membership.renewed':
      return { type, payload: { memberId, tier: 'premium', expiresAt: '2026-01-01T00:00:00.000Z' } };
    case 'membership.activated':
      return { type, payload: { memberId, tier: 'vip', expiresAt: '2026-01-01T00:00:00.000Z', orderId: null } };
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const store = options.store ?? new MemoryEventStore();
  const ownBus = !options.buses;
  const buses = options.buses ?? [new InProcessEventBus()];
  const started: { close(): Promise<void> }[] = [];
  const members: RunningServer[] = [];
  const schema = await memberSchema();
  for (const bus of buses) {
    members.push(
      await startSubgraphServer({
        name: 'member',
        schema,
        host: '127.0.0.1',
        port: 0,
        subgraphSecret: config.SUBGRAPH_SECRET,
        introspection: true,
        subscriptions: {
          bus,
          store,
          eventTypes: memberUpdateEventTypes,
          ...(options.subgraphBufferSize ? { bufferSize: options.subgraphBufferSize } : {}),
        },
      }),
    );
  }
  const probeServiceSchema = probeSchema();
  const probe = await startSubgraphServer({
    name: 'probe' as SubgraphName,
    schema: probeServiceSchema,
    host: '127.0.0.1',
    port: 0,
    subgraphSecret: config.SUBGRAPH_SECRET,
    introspection: true,
  });
  started.push(probe, ...members);
  const composed = composeServices([
    { name: 'member', url: members[0]?.url ?? '', typeDefs: parse(printSubgraphSchema(schema)) },
    { name: 'probe', url: probe.url, typeDefs: parse(printSubgraphSchema(probeServiceSchema)) },
  ]);
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const gateways: RunningGateway[] = [];
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    gateways.push(
      await startGateway({
        host: '127.0.0.1',
        port: 0,
        subgraphUrls: { member: (members[i % members.length] as RunningServer).url, probe: probe.url },
        jwtSecret: config.JWT_SECRET,
        subgraphSecret: config.SUBGRAPH_SECRET,
        sandbox: false,
        introspection: true,
        production: false,
        supergraphSdl: composed.supergraphSdl,
        ...(options.gatewaySubscriptions ? { subscriptions: options.gatewaySubscriptions } : {}),
        ...(options.gatewayQueryLimits ? { queryLimits: options.gatewayQueryLimits } : {}),
      }),
    );
  }
  let closed = false;
  const stopped = new Set<{ close(): Promise<void> }>();
  return {
    store,
    buses,
    gateways,
    members,
    jwtSecret: config.JWT_SECRET,
    token: (sub, role = 'member', tokenOptions = {}) => mintClientToken({ sub, role }, config.JWT_SECRET, tokenOptions),
    wsUrl: (gateway = 0) => (gateways[gateway] as RunningGateway).url.replace(/^http/, 'ws'),
    stopMember: async (index = 0) => {
      const member = members[index];
      if (!member || stopped.has(member)) return;
      stopped.add(member);
      await member.close();
    },
    emit: async (memberId, type = 'member.profile.updated') => {
      const result = await store.append(`member-${memberId}`, [newEvent(memberId, type)], {
        expectedVersion: 'any',
        context: { correlationId: 'subscription-test' },
      });
      const [event] = result.events;
      if (!event) throw new Error('append stored nothing');
      // Publish once, as the single outbox relay would; every member instance's queue gets a copy.
      await (buses[0] as EventBus).publish([event]);
      return event;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const gateway of gateways) await gateway.close();
      for (const server of started) if (!stopped.has(server)) await server.close();
      if (ownBus) for (const bus of buses) await bus.close();
      if (!options.store) await store.close();
    },
  };
}
