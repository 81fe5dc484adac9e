// Small federations made for one test: each subgraph is an @apollo/subgraph schema with plain
// resolvers behind a bare HTTP endpoint on a free port, composed with @apollo/composition and served
// by this project's gateway (gateway-server.ts), so a query goes through the same planner and
// executor as in production.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import { startGateway, type RunningGateway } from '../../../gateway/gateway-server';
import { randomSecret } from '../../support/secrets';

export interface FixtureSubgraph {
  readonly name: string;
  readonly typeDefs: string;
  /** Plain resolvers by type and field (`__resolveReference` included), as buildSubgraphSchema takes them. */
  readonly resolvers: Record<string, Record<string, unknown>>;
}

export interface GraphQLAnswer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface FixtureFederation {
  /** A query through the gateway, as a client sends it. */
  query(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer>;
  /** The operations each subgraph received, in order. */
  readonly received: Readonly<Record<string, readonly string[]>>;
  close(): Promise<void>;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function serveSubgraph(schema: GraphQLSchema, received: string[]): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      const { query, variables, operationName } = JSON.parse(await readBody(req)) as {
        query: string;
        variables?: Record<string, unknown>;
        operationName?: string;
      };
      received.push(query);
      const result = await graphql({ schema, source: query, variableValues: variables ?? null, operationName: operationName ?? null });
      const body = JSON.stringify(result);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    })();
  });
}

async function listenOnFreePort(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

export async function startFixtureFederation(subgraphs: readonly FixtureSubgraph[]): Promise<FixtureFederation> {
  const received: Record<string, string[]> = {};
  const servers: http.Server[] = [];
  const services: { name: string; url: string; typeDefs: ReturnType<typeof parse> }[] = [];
  let gateway: RunningGateway | undefined;
  const close = async (): Promise<void> => {
    await gateway?.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    for (const subgraph of subgraphs) {
      const typeDefs = parse(subgraph.typeDefs);
      const log: string[] = [];
      received[subgraph.name] = log;
      const server = serveSubgraph(buildSubgraphSchema({ typeDefs, resolvers: subgraph.resolvers as never }), log);
      servers.push(server);
      services.push({ name: subgraph.name, url: await listenOnFreePort(server), typeDefs });
    }
    const composed = composeServices(services);
    if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      subgraphUrls: Object.fromEntries(services.map((s) => [s.name, s.url])),
      jwtSecret: randomSecret(),
      subgraphSecret: randomSecret(),
      sandbox: false,
      introspection: false,
      production: false,
      supergraphSdl: composed.supergraphSdl,
    });
  } catch (error) {
    await close();
    throw error;
  }
  const url = gateway.url;
  return {
    received,
    close,
    query: async (query, variables) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      });
      return (await response.json()) as GraphQLAnswer;
    },
  };
}
