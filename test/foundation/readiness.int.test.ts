// /ready tells the truth about the backends: a subgraph's and the gateway's readiness fail with 503
// naming RabbitMQ while the broker connection is down (cut by a proxy the test controls) and come back
// by themselves when it returns; they name MongoDB while it cannot be reached (the real driver
// against an address where nothing listens).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends, createMemoryBackends, type Backends } from '../../messaging/backends';
import { startGateway, type RunningGateway } from '../../gateway/gateway-server';
import { loadConfig, type Config } from '../../platform/config';
import { MongoConnection } from '../../platform/mongodb';
import { startSubgraph, type StartedSubgraph } from '../../subgraphs/common/start-subgraph';
import { memberSubgraph } from '../../subgraphs/member/subgraph';
import { freePort } from '../support/ports';
import { useTestVhost } from '../support/rabbit';
import { SeverableProxy } from '../support/severable-proxy';
import { eventually } from '../support/wait';

const broker = useTestVhost('readiness');

interface Readiness {
  status: number;
  body: { status: string; reason?: string; backends?: Record<string, string>; subgraphs?: Record<string, string> };
}

async function ready(url: string): Promise<Readiness> {
  const response = await fetch(new URL('/ready', url));
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

async function startOne(backends: Backends, config: Config): Promise<{ member: StartedSubgraph; gateway: RunningGateway }> {
  const member = await startSubgraph(memberSubgraph, backends, config, { port: 0, host: '127.0.0.1' });
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    subgraphUrls: { member: member.url },
    jwtSecret: config.JWT_SECRET,
    subgraphSecret: config.SUBGRAPH_SECRET,
    sandbox: false,
    introspection: false,
    production: false,
  });
  return { member, gateway };
}

describe('readiness while RabbitMQ is unreachable', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'readiness-'));
  let proxy: SeverableProxy;
  let backends: Backends;
  let member: StartedSubgraph;
  let gateway: RunningGateway;

  beforeAll(async () => {
    proxy = new SeverableProxy(new URL(broker.url));
    const port = await proxy.listen();
    const viaProxy = new URL(broker.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(port);
    const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', DATA_DIR: dataDir, RABBITMQ_URL: viaProxy.toString(), LOG_LEVEL: 'silent' });
    backends = await createBackends(config, undefined, { announcements: false });
    ({ member, gateway } = await startOne(backends, config));
  });

  afterAll(async () => {
    await gateway?.close();
    await member?.close();
    await backends?.close();
    await proxy?.close();
    await broker.delete();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails with 503 naming RabbitMQ while the connection is down, and is ready again by itself', async () => {
    expect(await ready(member.url)).toEqual({
      status: 200,
      body: { status: 'ready', backends: { RabbitMQ: 'ok' }, subgraph: 'member' },
    });
    expect((await ready(gateway.url)).status).toBe(200);

    proxy.cut(1_000_000); // every reconnect refused until restored

    const down = await eventually(async () => {
      const answer = await ready(member.url);
      return answer.status === 503 ? answer : null;
    }, 'the subgraph to report RabbitMQ down');
    expect(down.body).toMatchObject({ status: 'unavailable', backends: { RabbitMQ: expect.stringMatching(/connection lost/) } });
    expect(down.body.reason).toMatch(/^RabbitMQ: connection lost/);
    const gatewayDown = await ready(gateway.url);
    expect(gatewayDown.status).toBe(503);
    expect(gatewayDown.body.subgraphs?.member).toMatch(/^RabbitMQ: connection lost/);
    expect(gatewayDown.body.reason).toMatch(/^member: RabbitMQ: connection lost/);

    proxy.restore();
    await eventually(async () => (await ready(member.url)).status === 200, 'the subgraph to be ready again', 30_000);
    expect((await ready(gateway.url)).status).toBe(200);
  }, 60_000);
});

describe('readiness while MongoDB is unreachable', () => {
  let mongo: MongoConnection;
  let backends: Backends;
  let member: StartedSubgraph;
  let gateway: RunningGateway;

  beforeAll(async () => {
    // The product on in-memory stores, reporting the health of a real MongoDB connection to a port
    // where nothing listens: the driver's own answer is what reaches /ready.
    mongo = new MongoConnection({ uri: `mongodb://127.0.0.1:${await freePort()}/membership`, timeoutMs: 300 });
    const memory = await createMemoryBackends();
    backends = { ...memory, health: async () => [await mongo.health(), ...(await memory.health())] };
    ({ member, gateway } = await startOne(backends, loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'silent' })));
  });

  afterAll(async () => {
    await gateway?.close();
    await member?.close();
    await backends?.close();
    await mongo?.close();
  });

  it('fails with 503 naming MongoDB, at the subgraph and at the gateway', async () => {
    const subgraph = await ready(member.url);
    expect(subgraph.status).toBe(503);
    expect(subgraph.body.backends).toEqual({ MongoDB: expect.stringMatching(/unreachable|no writable server/), 'in-process bus': 'ok' });
    expect(subgraph.body.reason).toMatch(/^MongoDB: /);
    const atGateway = await ready(gateway.url);
    expect(atGateway.status).toBe(503);
    expect(atGateway.body.subgraphs?.member).toMatch(/^MongoDB: /);
  });
});
