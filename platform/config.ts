// The one config module: every environment variable the product reads is declared, documented,
// defaulted and validated here, once, at start. A bad value stops the start naming the variable.
import path from 'node:path';
import { defaultCorsOrigins, originPatternProblem } from './cors';
import { parseMongoUri } from './mongodb-uri';
import { DEVELOPMENT_JWT_SECRET, DEVELOPMENT_SUBGRAPH_SECRET, publishedSecretProblem } from './published-secrets';

/** The subgraphs, by name: each listens on <NAME>_PORT and the gateway reaches it at <NAME>_URL. */
export const subgraphNames = ['member', 'payment', 'certification', 'analytics'] as const;
export type SubgraphName = (typeof subgraphNames)[number];
export const subgraphPortVariable = <N extends SubgraphName>(name: N) => `${name.toUpperCase() as Uppercase<N>}_PORT` as const;
export const subgraphUrlVariable = <N extends SubgraphName>(name: N) => `${name.toUpperCase() as Uppercase<N>}_URL` as const;

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`Configuration error in ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

interface VariableSpec<T> {
  readonly description: string;
  /** Shown in docs; `undefined` when the variable is optional with no default. */
  readonly defaultText: string;
  readonly parse: (raw: string | undefined, name: string, env: Env) => T;
}


function port(def: number) {
  return (raw: string | undefined, name: string): number => {
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(name, `"${raw}" is not a port number (0-65535).`);
    return n;
  };
}

function positiveInt(def: number) {
  return (raw: string | undefined, name: string): number => {
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(name, `"${raw}" is not a positive integer.`);
    return n;
  };
}

function bool(def: boolean | ((env: Env) => boolean)) {
  return (raw: string | undefined, name: string, env: Env): boolean => {
    if (raw === undefined || raw === '') return typeof def === 'function' ? def(env) : def;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    throw new ConfigError(name, `"${raw}" is not a boolean (use true or false).`);
  };
}

function oneOf<const T extends string>(values: readonly T[], def: T) {
  return (raw: string | undefined, name: string): T => {
    if (raw === undefined || raw === '') return def;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new ConfigError(name, `"${raw}" is not one of ${values.join(', ')}.`);
  };
}

function url(protocols: readonly string[], def?: string) {
  return (raw: string | undefined, name: string): string | undefined => {
    const value = raw === undefined || raw === '' ? def : raw;
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `"${value}" is not a URL.`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `"${value}" must use ${protocols.join(' or ')}.`);
    }
    return value;
  };
}

function secret(devDefault: string) {
  return (raw: string | undefined, name: string, env: Env): string => {
    if (raw === undefined || raw === '') {
      if (env.NODE_ENV === 'production') throw new ConfigError(name, 'must be set when NODE_ENV=production.');
      return devDefault;
    }
    if (raw.length < 32) throw new ConfigError(name, 'must be at least 32 characters long.');
    // Passed explicitly or not, a secret anyone can read is no secret in production.
    const published = env.NODE_ENV === 'production' ? publishedSecretProblem(raw) : null;
    if (published) throw new ConfigError(name, published);
    return raw;
  };
}

const isProduction = (env: Env) => env.NODE_ENV === 'production';

/** Every variable, with its documentation. The README's configuration table mirrors this. */
export const variables = {
  NODE_ENV: {
    description: '`development`, `test` or `production`. Production turns off Sandbox, introspection and schema suggestions in errors ("Did you mean ..."), and requires real secrets.',
    defaultText: 'development',
    parse: oneOf(['development', 'test', 'production'], 'development'),
  },
  HOST: { description: 'Interface every server binds to.', defaultText: '0.0.0.0', parse: (raw) => raw || '0.0.0.0' },
  PORT: { description: 'Gateway port (HTTP and WebSocket at /graphql).', defaultText: '4000', parse: port(4000) },
  MEMBER_PORT: { description: 'Member subgraph port.', defaultText: '4001', parse: port(4001) },
  PAYMENT_PORT: { description: 'Payment subgraph port.', defaultText: '4002', parse: port(4002) },
  CERTIFICATION_PORT: { description: 'Certification subgraph port.', defaultText: '4003', parse: port(4003) },
  ANALYTICS_PORT: { description: 'Analytics subgraph port.', defaultText: '4004', parse: port(4004) },
  WORKER_PORT: {
    description: 'Worker process port for /health and /metrics.',
    defaultText: '4005',
    parse: port(4005),
  },
  MEMBER_URL: {
    description: 'Where the gateway reaches the member subgraph.',
    defaultText: 'http://localhost:$MEMBER_PORT/graphql',
    parse: (raw: string | undefined, name: string, env: Env) =>
      url(['http:', 'https:'], `http://localhost:${port(4001)(env.MEMBER_PORT, 'MEMBER_PORT')}/graphql`)(raw, name) as string,
  },
  PAYMENT_URL: {
    description: 'Where the gateway reaches the payment subgraph.',
    defaultText: 'http://localhost:$PAYMENT_PORT/graphql',
    parse: (raw: string | undefined, name: string, env: Env) =>
      url(['http:', 'https:'], `http://localhost:${port(4002)(env.PAYMENT_PORT, 'PAYMENT_PORT')}/graphql`)(raw, name) as string,
  },
  CERTIFICATION_URL: {
    description: 'Where the gateway reaches the certification subgraph.',
    defaultText: 'http://localhost:$CERTIFICATION_PORT/graphql',
    parse: (raw: string | undefined, name: string, env: Env) =>
      url(['http:', 'https:'], `http://localhost:${port(4003)(env.CERTIFICATION_PORT, 'CERTIFICATION_PORT')}/graphql`)(
        raw,
        name,
      ) as string,
  },
  ANALYTICS_URL: {
    description: 'Where the gateway reaches the analytics subgraph.',
    defaultText: 'http://localhost:$ANALYTICS_PORT/graphql',
    parse: (raw: string | undefined, name: string, env: Env) =>
      url(['http:', 'https:'], `http://localhost:${port(4004)(env.ANALYTICS_PORT, 'ANALYTICS_PORT')}/graphql`)(raw, name) as string,
  },
  MONGODB_URI: {
    description:
      'MongoDB connection string, read by the driver\'s own parser: one host, a replica set (`mongodb://h1:27017,h2:27017,h3:27017/membership?replicaSet=rs0`) or Atlas (`mongodb+srv://user:pass@cluster0.example.mongodb.net/membership?retryWrites=true`). The database is the path, default `membership`. Unset: the embedded file-backed store.',
    defaultText: '(unset: embedded)',
    parse: (raw: string | undefined, name: string): string | undefined => {
      if (raw === undefined || raw === '') return undefined;
      try {
        parseMongoUri(raw);
      } catch (error) {
        // The message never repeats the URI: it may hold a password.
        throw new ConfigError(name, `not a MongoDB connection string the driver accepts: ${(error as Error).message}`);
      }
      return raw;
    },
  },
  MONGODB_TIMEOUT_MS: {
    description:
      'How long a MongoDB call waits for a server it can use (server selection, event store and document stores alike) before failing with UNAVAILABLE; also bounds the readiness ping. Above a replica set\'s election time (about 10 s) calls ride out a failover instead of failing; below it an outage answers sooner.',
    defaultText: '5000',
    parse: positiveInt(5000),
  },
  MONGODB_WRITE_CONCERN: {
    description: 'Write concern for appends: `majority` or a number of nodes.',
    defaultText: 'majority',
    parse: (raw: string | undefined, name: string): 'majority' | number => {
      if (raw === undefined || raw === '' || raw === 'majority') return 'majority';
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new ConfigError(name, `"${raw}" is not "majority" or a non-negative integer.`);
      return n;
    },
  },
  RABBITMQ_URL: {
    description: 'RabbitMQ connection (`amqp://user:pass@host:5672`, optionally `/<vhost>`). Unset: the in-process bus.',
    defaultText: '(unset: in-process)',
    parse: url(['amqp:', 'amqps:']),
  },
  RABBITMQ_HOSTS: {
    description:
      'Every node of a RabbitMQ cluster as `host:port`, comma-separated (`rabbit-0:5672,rabbit-1:5672,rabbit-2:5672`): each process connects to one of them (starting at a random one, so connections spread) and moves to the next when its node goes away. User, password and vhost still come from `RABBITMQ_URL`. Unset: `RABBITMQ_URL`\'s host only.',
    defaultText: "(unset: RABBITMQ_URL's host)",
    parse: (raw: string | undefined, name: string): readonly string[] | undefined => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const hosts = raw.split(',').map((host) => host.trim());
      for (const host of hosts) {
        const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host);
        if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) {
          throw new ConfigError(name, `"${host}" is not a host or host:port (in a comma-separated list like rabbit-0:5672,rabbit-1:5672).`);
        }
      }
      return hosts;
    },
  },
  RABBITMQ_QUEUE_TYPE: {
    description:
      'Type of every durable queue (consumer, retry and dead-letter queues): `quorum` (replicated over a cluster\'s nodes: survives losing a minority of them) or `classic` (on one node). Subscriptions\' live queues and replays\' temporary queues are always classic and non-durable. A queue that exists with the other type stops the start with QUEUE_TYPE_MISMATCH naming it: see "Moving to quorum queues".',
    defaultText: 'quorum',
    parse: oneOf(['quorum', 'classic'], 'quorum'),
  },
  RABBITMQ_EXCHANGE: {
    description: 'The durable topic exchange events are published to (dead letters go to `<name>.dlx`, append announcements to `<name>.appends`). Keep the default: to run several deployments on one broker, give each its own virtual host in `RABBITMQ_URL` (`amqp://user:pass@host:5672/staging`), as the tests do.',
    defaultText: 'events',
    parse: (raw: string | undefined, name: string) => {
      const value = raw === undefined || raw === '' ? 'events' : raw;
      if (!/^[A-Za-z0-9._-]{1,200}$/.test(value) || value.startsWith('amq.') || value === 'events.dlx') {
        throw new ConfigError(name, `"${value}" is not an exchange name: 1 to 200 letters, digits, ".", "_" or "-", not amq.* nor events.dlx.`);
      }
      return value;
    },
  },
  DATA_DIR: {
    description: 'Directory of the embedded event store and state files.',
    defaultText: './data',
    parse: (raw: string | undefined) => path.resolve(raw || './data'),
  },
  JWT_SECRET: {
    description: 'HS256 secret of client tokens (at least 32 characters). Required in production, where the development defaults, secrets written in this repository and ones of fewer than 8 different characters are refused; a loud development default otherwise.',
    defaultText: '(development default)',
    parse: secret(DEVELOPMENT_JWT_SECRET),
  },
  JWT_MAX_LIFETIME_SECONDS: {
    description: 'Longest lifetime (from `iat` to `exp`) of a client token the gateway accepts; a token without `exp` is refused.',
    defaultText: '86400',
    parse: positiveInt(86_400),
  },
  SUBGRAPH_SECRET: {
    description: 'Secret the gateway signs forwarded identities with; subgraphs refuse requests without a valid signature. Required in production, refused there as JWT_SECRET is.',
    defaultText: '(development default)',
    parse: secret(DEVELOPMENT_SUBGRAPH_SECRET),
  },
  IN_PROCESS_SUBGRAPHS: {
    description:
      'When the gateway runs in the same process as the subgraphs (`npm start`), call them in process: no HTTP and no JSON round trip, the same signed identity checked by the subgraph. `false`: over HTTP on their ports, as a split deployment does. Ignored by a gateway running alone.',
    defaultText: 'true',
    parse: bool(true),
  },
  SANDBOX: {
    description: 'Serve the Apollo Sandbox landing page at the gateway.',
    defaultText: 'true, false in production',
    parse: bool((env) => !isProduction(env)),
  },
  CONSOLE_ENABLED: {
    description: 'Serve the web console (live operations pages and an offline GraphQL explorer) at `/console` on the gateway, from the files `npm run build` writes to `console/dist`.',
    defaultText: 'true, false in production',
    parse: bool((env) => !isProduction(env)),
  },
  INTROSPECTION: {
    description: 'Allow introspection queries.',
    defaultText: 'true, false in production',
    parse: bool((env) => !isProduction(env)),
  },
  LOG_LEVEL: {
    description: 'pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
    defaultText: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    description:
      'OpenTelemetry collector (OTLP over HTTP) base URL, e.g. `http://otel-collector:4318`: traces go to `<url>/v1/traces`. Setting it (or `OTEL_TRACES_EXPORTER`) turns tracing on; unset, tracing is off and costs next to nothing.',
    defaultText: '(unset: no tracing)',
    parse: url(['http:', 'https:']),
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    description: 'Full URL traces are posted to (`http://collector:4318/v1/traces`), instead of `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.',
    defaultText: '(unset)',
    parse: url(['http:', 'https:']),
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    description: 'OTLP encoding: `http/protobuf` or `http/json`.',
    defaultText: 'http/protobuf',
    parse: oneOf(['http/protobuf', 'http/json'], 'http/protobuf'),
  },
  OTEL_EXPORTER_OTLP_HEADERS: {
    description: 'Headers sent with every export, `key=value` pairs separated by commas (`x-honeycomb-team=KEY`); values may be percent-encoded.',
    defaultText: '(none)',
    parse: (raw: string | undefined, name: string): Readonly<Record<string, string>> => {
      const headers: Record<string, string> = {};
      for (const pair of (raw ?? '').split(',')) {
        if (pair.trim() === '') continue;
        const at = pair.indexOf('=');
        const key = at > 0 ? pair.slice(0, at).trim() : '';
        if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) throw new ConfigError(name, 'expects key=value pairs separated by commas.');
        try {
          headers[key.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
        } catch {
          throw new ConfigError(name, `the value of "${key}" is not valid percent-encoding.`);
        }
      }
      return headers;
    },
  },
  OTEL_TRACES_EXPORTER: {
    description:
      'Where spans go: `otlp` (the collector above), `console` (one line per span on stdout, for a look without a collector) or `none`. Unset: `otlp` when an endpoint is set, else `none`.',
    defaultText: 'otlp with an endpoint, else none',
    parse: (raw: string | undefined, name: string, env: Env): 'otlp' | 'console' | 'none' => {
      const endpoint = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
      const value = oneOf(['otlp', 'console', 'none'], endpoint ? 'otlp' : 'none')(raw, name);
      if (value === 'otlp' && !endpoint) throw new ConfigError(name, 'is otlp but neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.');
      return value;
    },
  },
  OTEL_SERVICE_NAME: {
    description: 'The `service.name` of this process\'s spans.',
    defaultText: 'membership-<process>: gateway, member, payment, certification, analytics, worker (`membership` for `npm start`)',
    parse: (raw: string | undefined, name: string): string | undefined => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length > 100) throw new ConfigError(name, 'is longer than 100 characters.');
      return raw;
    },
  },
  OTEL_TRACES_SAMPLER: {
    description:
      'Which traces are kept: `parentbased_always_on`, `parentbased_traceidratio`, `parentbased_always_off`, `always_on`, `always_off` or `traceidratio`. Parent-based samplers follow the caller\'s `traceparent` decision, so a trace is kept or dropped whole across processes.',
    defaultText: 'parentbased_always_on',
    parse: oneOf(
      ['parentbased_always_on', 'parentbased_traceidratio', 'parentbased_always_off', 'always_on', 'always_off', 'traceidratio'],
      'parentbased_always_on',
    ),
  },
  OTEL_TRACES_SAMPLER_ARG: {
    description: 'The ratio of traces kept (0 to 1) by the `traceidratio` samplers (`0.01`: one trace in a hundred).',
    defaultText: '1',
    parse: (raw: string | undefined, name: string): number => {
      if (raw === undefined || raw === '') return 1;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(name, `"${raw}" is not a ratio from 0 to 1.`);
      return n;
    },
  },
  QUEUE_PREFIX: {
    description: 'Prefix of every durable queue this deployment declares (`membership.crm`, ...), so deployments can share a broker.',
    defaultText: 'membership.',
    parse: (raw: string | undefined, name: string) => {
      const value = raw ?? 'membership.';
      if (!/^[a-z0-9_.-]{0,40}$/.test(value)) throw new ConfigError(name, `"${value}" may only hold a-z, 0-9, ".", "_" and "-" (at most 40).`);
      return value;
    },
  },
  SMTP_URL: {
    description: 'SMTP server for confirmation emails (`smtp://user:pass@host:587`). Unset: emails go to the local mailbox, readable as `Member.emails`.',
    defaultText: '(unset: local mailbox)',
    parse: url(['smtp:', 'smtps:']),
  },
  MAIL_FROM: {
    description: 'Sender address of confirmation emails.',
    defaultText: 'membership@localhost',
    parse: (raw: string | undefined) => raw || 'membership@localhost',
  },
  SNAPSHOT_EVERY: {
    description: 'Save an aggregate snapshot once this many events follow the last one.',
    defaultText: '50',
    parse: positiveInt(50),
  },
  FOLLOWER_POLL_MS: {
    description: 'How often the outbox relay and projections look for events appended by other processes when no announcement woke them (with RabbitMQ, processes announce their appends to each other; without it, or when an announcement is lost, this poll is how they learn).',
    defaultText: '50',
    parse: positiveInt(50),
  },
  SAGA_STEP_TIMEOUT_MS: {
    description: 'How long each step of the order saga (payment, stock, shipping, refund) may take before compensation starts, counting only time the workers ran.',
    defaultText: '30000',
    parse: positiveInt(30_000),
  },
  SAGA_TIMEOUT_SCAN_MS: {
    description: 'How often the workers look for order sagas whose step timed out.',
    defaultText: '1000',
    parse: positiveInt(1000),
  },
  QUERY_MAX_TOKENS: {
    description: 'Lexical tokens one GraphQL document may have at the gateway (HTTP and WebSocket); a longer one is refused with GRAPHQL_PARSE_FAILED.',
    defaultText: '5000',
    parse: positiveInt(5000),
  },
  QUERY_MAX_DEPTH: {
    description: 'Selection depth one operation may reach at the gateway (introspection excepted); a deeper one is refused with GRAPHQL_VALIDATION_FAILED.',
    defaultText: '12',
    parse: positiveInt(12),
  },
  QUERY_MAX_ALIASES: {
    description: 'Aliases one operation may use at the gateway; more are refused with GRAPHQL_VALIDATION_FAILED.',
    defaultText: '30',
    parse: positiveInt(30),
  },
  QUERY_MAX_DIRECTIVES: {
    description: 'Directives one operation may use at the gateway; more are refused with GRAPHQL_VALIDATION_FAILED.',
    defaultText: '50',
    parse: positiveInt(50),
  },
  CORS_ORIGINS: {
    description:
      'Browser origins allowed to call the gateway (CORS), comma-separated: `https://app.example.com`, `http://localhost:*` (any port), `https://*.example.com` (any subdomain), or `*`. A preflight from one of them is answered 204; any other origin is refused with 403 FORBIDDEN. Requests without an Origin (servers) are not concerned.',
    defaultText: 'http://localhost:*,http://127.0.0.1:*; none in production',
    parse: (raw: string | undefined, name: string, env: Env): string[] => {
      if (raw === undefined || raw.trim() === '') return defaultCorsOrigins(isProduction(env));
      const origins = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
      for (const origin of origins) {
        const problem = originPatternProblem(origin);
        if (problem) throw new ConfigError(name, problem);
      }
      return origins;
    },
  },
  WS_MAX_CONNECTIONS: {
    description: 'Subscription connections one gateway accepts, all transports together (WebSockets, SSE streams, multipart responses); more are refused with HTTP 503 (at the upgrade for WebSockets).',
    defaultText: '10000',
    parse: positiveInt(10_000),
  },
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    description: 'Active subscriptions per WebSocket connection (and per graphql-sse single-connection stream); one more is refused with TOO_MANY_SUBSCRIPTIONS.',
    defaultText: '100',
    parse: positiveInt(100),
  },
  WS_CONNECTION_INIT_TIMEOUT_MS: {
    description: 'Time a WebSocket client has to send connection_init before it is closed with 4408 (and a graphql-sse client has to connect to the stream it reserved with PUT before the reservation is forgotten).',
    defaultText: '3000',
    parse: positiveInt(3000),
  },
  WS_MAX_PAYLOAD_BYTES: {
    description:
      'Largest WebSocket message, in bytes, the gateway and the subgraphs take (as the 1 MB limit of HTTP bodies); a bigger one closes the socket with 1009, refused from its frame header before it is read.',
    defaultText: '1048576',
    parse: positiveInt(1_048_576),
  },
  WS_KEEPALIVE_MS: {
    description: 'Interval of WebSocket pings that detect dead peers (gateway and subgraphs), and of the heartbeat parts of multipart subscriptions.',
    defaultText: '12000',
    parse: positiveInt(12_000),
  },
  SUBSCRIPTION_BUFFER_SIZE: {
    description:
      'Events held per subscription for a slow client (gateway and subgraphs); on overflow the subscription ends with SUBSCRIPTION_OVERFLOW and the cursor to resume from.',
    defaultText: '1000',
    parse: positiveInt(1000),
  },
  PROCESSED_MARKER_RETENTION_HOURS: {
    description: 'How long consumers remember which events they processed (to absorb redeliveries); older markers are pruned by the workers every 10 minutes.',
    defaultText: '168',
    parse: positiveInt(168),
  },
  CERTIFICATION_EXPIRY_INTERVAL_MS: {
    description: 'How often the certification expiry scheduler (worker process) looks for certifications entering their expiring-soon window or passing their expiry date.',
    defaultText: '60000',
    parse: positiveInt(60_000),
  },
  ANALYTICS_ALLOWED_LATENESS_MS: {
    description: 'How late (event time behind the newest event) an activity may arrive and still count in its 5-minute window; later ones are kept aside as late.',
    defaultText: '30000',
    parse: positiveInt(30_000),
  },
  ANALYTICS_TICK_MS: {
    description: 'How often the analytics stream processor checks whether processing time should close idle windows and decide absence patterns.',
    defaultText: '1000',
    parse: positiveInt(1_000),
  },
  SHUTDOWN_TIMEOUT_MS: {
    description: 'How long SIGTERM waits for in-flight work before closing anyway.',
    defaultText: '10000',
    parse: positiveInt(10000),
  },
} satisfies Record<string, VariableSpec<unknown>>;

type Variables = typeof variables;
export type VariableName = keyof Variables;
export type Config = { readonly [K in VariableName]: ReturnType<Variables[K]['parse']> } & {
  /** True when running on a development secret (so the start banner can warn). */
  readonly usingDevelopmentSecrets: boolean;
};

export function loadConfig(env: Env = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables) as [VariableName, VariableSpec<unknown>][]) {
    out[name] = spec.parse(env[name], name, env);
  }
  out.usingDevelopmentSecrets = out.JWT_SECRET === DEVELOPMENT_JWT_SECRET || out.SUBGRAPH_SECRET === DEVELOPMENT_SUBGRAPH_SECRET;
  return out as Config;
}

export function isKnownVariable(name: string): name is VariableName {
  return Object.prototype.hasOwnProperty.call(variables, name);
}

let cached: Config | undefined;
/** The process's configuration, read on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
