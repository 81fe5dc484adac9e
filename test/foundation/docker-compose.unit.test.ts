// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked against the
// repository instead: build entries exist, only known variables are set, health and wiring agree.
import fs from 'node:fs';
import path from 'node:path';
import { isKnownVariable, loadConfig } from '../../platform/config';
import { parseMongoUri } from '../../platform/mongodb-uri';
import { NODE_FLAGS } from '../../platform/node-flags';
import {
  builtServices,
  buildEntryOf,
  commandOf,
  dependenciesOf,
  environmentOf,
  healthcheckText,
  interpolate,
  listenPortOf,
  publishedPorts,
  readCompose,
  volumeMounts,
  type Service,
} from '../support/compose';
import { randomSecret } from '../support/secrets';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

const compose = readCompose();
const services = Object.entries(compose.services);
const built = builtServices(compose);

const hostEnvironment = { JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret() };

describe('docker-compose.yml', () => {
  it('has our services and both backends', () => {
    expect(built.map(([name]) => name).sort()).toEqual(
      ['analytics', 'certification', 'gateway', 'member', 'payment', 'worker'].sort(),
    );
    expect(compose.services.mongodb).toBeDefined();
    expect(compose.services.rabbitmq).toBeDefined();
  });

  it('runs every built service from a build entry whose TypeScript source exists and is compiled by npm run build', () => {
    const buildIncludes = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    const problems: string[] = [];
    for (const [name, service] of built) {
      const entry = buildEntryOf(service);
      if (!entry) {
        problems.push(`${name}: its command (${commandOf(service).join(' ')}) runs no dist/*.js entry`);
        continue;
      }
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      if (!fs.existsSync(path.join(root, source))) problems.push(`${name}: ${entry} has no source ${source}`);
      if (!buildIncludes.includes(source.split('/')[0] ?? '')) {
        problems.push(`${name}: ${source} is outside tsconfig.build.json's include (${buildIncludes.join(', ')})`);
      }
      if (commandOf(service)[0] !== 'node') problems.push(`${name}: the command should start with node`);
    }
    expect(problems).toEqual([]);
  });

  it('builds every one of our services from the repository Dockerfile', () => {
    for (const [, service] of built) {
      const build = service.build;
      const context = typeof build === 'string' ? build : (build?.context ?? '');
      const dockerfile = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      expect(path.resolve(root, context)).toBe(root);
      expect(fs.existsSync(path.join(root, dockerfile))).toBe(true);
    }
  });

  it('sets on our services only environment variables the config module knows', () => {
    const unknown = built.flatMap(([name, service]) =>
      Object.keys(environmentOf(service))
        .filter((variable) => !isKnownVariable(variable))
        .map((variable) => `${name}: ${variable}`),
    );
    expect(unknown).toEqual([]);
  });

  it('gives every built service an environment the config module accepts once the secrets are supplied', () => {
    const problems: string[] = [];
    for (const [name, service] of built) {
      const env = Object.fromEntries(
        Object.entries(environmentOf(service)).map(([k, v]) => [k, interpolate(v, hostEnvironment)]),
      );
      try {
        loadConfig(env);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
      if (env.NODE_ENV !== 'production') problems.push(`${name}: NODE_ENV is ${env.NODE_ENV ?? 'unset'}, not production`);
    }
    expect(problems).toEqual([]);
  });

  it('takes JWT_SECRET and SUBGRAPH_SECRET from the host environment and refuses to start without them', () => {
    for (const [name, service] of built) {
      const env = environmentOf(service);
      for (const secret of ['JWT_SECRET', 'SUBGRAPH_SECRET']) {
        expect({ service: name, [secret]: env[secret] }).toEqual({
          service: name,
          [secret]: expect.stringMatching(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`)),
        });
        expect(() => interpolate(env[secret] ?? '', {})).toThrow(new RegExp(`${secret} is required`));
      }
    }
  });

  it('checks the health of every built service that serves HTTP, on the port its port variable sets', () => {
    const problems: string[] = [];
    for (const [name, service] of built) {
      const listen = listenPortOf(service);
      if (!listen) continue;
      const check = healthcheckText(service);
      const called = check?.match(/https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\/(health|ready)\b/);
      if (!called) {
        problems.push(`${name}: no healthcheck calling /health or /ready (${check ?? 'none'})`);
      } else if (Number(called[1]) !== listen.port) {
        problems.push(`${name}: ${listen.variable}=${listen.port} but its healthcheck calls port ${called[1]}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every built service a healthcheck, except a process without HTTP that compose restarts when it exits', () => {
    for (const [name, service] of built) {
      if (healthcheckText(service) !== undefined) continue;
      expect({ service: name, listensOn: listenPortOf(service) }).toEqual({ service: name, listensOn: undefined });
      expect({ service: name, restart: service.restart }).toEqual({
        service: name,
        restart: expect.stringMatching(/^(always|unless-stopped|on-failure)/),
      });
    }
    expect(healthcheckText(compose.services.gateway!)).toMatch(/\/ready\b/);
  });

  it('waits on dependencies through conditions, naming only existing services that can become healthy', () => {
    const problems: string[] = [];
    for (const [name, service] of services) {
      for (const [dependency, condition] of Object.entries(dependenciesOf(service))) {
        const target = compose.services[dependency];
        if (!target) problems.push(`${name} depends on ${dependency}, which is not a service`);
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition ?? '')) {
          problems.push(`${name} depends on ${dependency} without a condition`);
        }
        if (condition === 'service_healthy' && target && healthcheckText(target) === undefined) {
          problems.push(`${name} waits for ${dependency} to be healthy, but ${dependency} has no healthcheck`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('starts a service only after every service its URLs point at is healthy', () => {
    const problems: string[] = [];
    for (const [name, service] of built) {
      const deps = dependenciesOf(service);
      for (const [variable, value] of Object.entries(environmentOf(service))) {
        if (!/_(URL|URI)$/.test(variable)) continue;
        const host = new URL(interpolate(value, hostEnvironment)).hostname;
        if (!compose.services[host]) problems.push(`${name}: ${variable} points at ${host}, which is not a service`);
        else if (deps[host] !== 'service_healthy') problems.push(`${name}: ${variable} uses ${host} but does not wait for it healthy`);
      }
    }
    expect(problems).toEqual([]);
    for (const [, service] of built) {
      expect(dependenciesOf(service)).toMatchObject({ mongodb: 'service_healthy', rabbitmq: 'service_healthy' });
    }
  });

  it("points the gateway at each subgraph's service on the port that subgraph listens on", () => {
    const gatewayEnv = environmentOf(compose.services.gateway!);
    for (const subgraph of ['member', 'payment', 'certification', 'analytics']) {
      const variable = `${subgraph.toUpperCase()}_URL`;
      const url = new URL(gatewayEnv[variable] ?? 'http://missing');
      const target = compose.services[url.hostname];
      expect({ variable, entry: target && buildEntryOf(target) }).toEqual({
        variable,
        entry: `dist/subgraphs/${subgraph}/main.js`,
      });
      expect({ variable, port: Number(url.port) }).toEqual({ variable, port: listenPortOf(target!)?.port });
      expect(url.pathname).toBe('/graphql');
    }
  });

  it('keeps MongoDB and RabbitMQ data in named volumes and checks both are healthy', () => {
    const mongodb = compose.services.mongodb!;
    const rabbitmq = compose.services.rabbitmq!;
    expect(mongodb.image).toMatch(/^mongo:/);
    expect(rabbitmq.image).toMatch(/^rabbitmq:.*management/);
    const named = Object.keys(compose.volumes ?? {});
    const namedVolumeAt = (service: Service, target: string) =>
      volumeMounts(service).find((m) => m.target === target && m.source !== undefined && named.includes(m.source))?.source;
    expect(namedVolumeAt(mongodb, '/data/db')).toBeDefined();
    expect(namedVolumeAt(rabbitmq, '/var/lib/rabbitmq')).toBeDefined();
    expect(healthcheckText(mongodb)).toMatch(/mongosh.*ping/);
    expect(healthcheckText(rabbitmq)).toMatch(/rabbitmq-diagnostics.*ping/);
  });

  describe('MongoDB as a single-node replica set', () => {
    const mongodb = compose.services.mongodb!;
    const replSet = (() => {
      const command = commandOf(mongodb);
      const flag = command.findIndex((token) => token === '--replSet' || token.startsWith('--replSet='));
      if (flag === -1) return undefined;
      return command[flag]!.includes('=') ? command[flag]!.split('=')[1] : command[flag + 1];
    })();
    const check = healthcheckText(mongodb) ?? '';

    it('starts mongod as a replica set member, listening beyond localhost', () => {
      expect(commandOf(mongodb)[0]).toBe('mongod');
      expect(replSet).toBe('rs0');
      expect(commandOf(mongodb)).toContain('--bind_ip_all');
    });

    it('initiates the set from its own healthcheck, naming the member as the services reach it, and is healthy only as PRIMARY', () => {
      const initiate = /rs\.initiate\(\{\s*_id:\s*'([^']+)',\s*members:\s*\[\{\s*_id:\s*0,\s*host:\s*'([^']+)'\s*\}\]\s*\}\)/.exec(check);
      expect(initiate?.[1]).toBe(replSet);
      // Only when the set is not initiated yet: a restart with the volume keeps the set as it is.
      expect(check).toMatch(/catch \(e\) \{ if \(e\.codeName !== 'NotYetInitialized'\) throw e; rs\.initiate/);
      expect(check).toMatch(/isWritablePrimary \? 0 : 1/);
      for (const [name, service] of built) {
        const uri = parseMongoUri(interpolate(environmentOf(service).MONGODB_URI ?? '', hostEnvironment));
        expect({ service: name, hosts: uri.hosts }).toEqual({ service: name, hosts: [initiate?.[2]] });
      }
    });

    it("gives every built service a replica-set URI for this set, so 'majority' writes mean a majority of it", () => {
      for (const [name, service] of built) {
        const env = environmentOf(service);
        const uri = parseMongoUri(interpolate(env.MONGODB_URI ?? '', hostEnvironment));
        expect({ service: name, replicaSet: uri.replicaSet, database: uri.databaseName }).toEqual({
          service: name,
          replicaSet: replSet,
          database: 'membership',
        });
        expect({ service: name, writeConcern: loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, hostEnvironment)]))).MONGODB_WRITE_CONCERN }).toEqual({
          service: name,
          writeConcern: 'majority',
        });
      }
    });
  });

  it('runs every process with the V8 flags npm start gives the product', () => {
    expect(compose.services.gateway?.command).toEqual(['node', ...NODE_FLAGS, 'dist/gateway/main.js']);
    expect(built.length).toBeGreaterThanOrEqual(6);
    for (const [name, service] of built) {
      const command = commandOf(service);
      expect({ service: name, start: command.slice(0, NODE_FLAGS.length + 1) }).toEqual({ service: name, start: ['node', ...NODE_FLAGS] });
    }
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain(`node ${NODE_FLAGS.join(' ')} dist/scripts/start.js`);
  });

  it('publishes the gateway on port 4000 and the RabbitMQ management UI on 15672', () => {
    expect(publishedPorts(compose.services.gateway!)).toContainEqual({ published: 4000, target: 4000 });
    expect(listenPortOf(compose.services.gateway!)).toEqual({ variable: 'PORT', port: 4000 });
    expect(publishedPorts(compose.services.rabbitmq!)).toContainEqual({ published: 15672, target: 15672 });
  });

  it('lets the subgraphs scale: no fixed container name and no published host port', () => {
    for (const [name, service] of built) {
      expect({ service: name, container_name: service.container_name }).toEqual({ service: name, container_name: undefined });
      if (name !== 'gateway') expect({ service: name, ports: publishedPorts(service) }).toEqual({ service: name, ports: [] });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const ignored = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim().replace(/^\/|\/$/g, ''))
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('runs the gateway build entry by default, as the unprivileged node user', () => {
    const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].pop()?.[1];
    expect(cmd && JSON.parse(cmd)).toEqual(['node', ...NODE_FLAGS, 'dist/gateway/main.js']);
    expect(fs.existsSync(path.join(root, 'gateway/main.ts'))).toBe(true);
    expect([...dockerfile.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1]).toBe('node');
  });

  it('keeps in the build context everything npm run build and npm ci need', () => {
    const buildIncludes = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    const needed = [...buildIncludes, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'supergraph.graphql'];
    expect(needed.filter((entry) => ignored.includes(entry))).toEqual([]);
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });

  it('has the dependency patches in place when npm ci runs its postinstall', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.postinstall).toMatch(/^patch-package\b/);
    expect(ignored).not.toContain('patches');
    const copyPatches = dockerfile.search(/^COPY patches \.\/patches$/m);
    const npmCi = dockerfile.search(/^RUN npm ci\b/m);
    expect(copyPatches).toBeGreaterThan(-1);
    expect(copyPatches).toBeLessThan(npmCi);
  });
});
