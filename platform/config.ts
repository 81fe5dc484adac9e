// The one config module: every environment variable the product reads is one entry of a zod schema
// that validates it, gives its default and documents it (the README table is printed from it by
// scripts/config-table.ts). Read once, at start; a bad value stops the start naming the variable.
import path from 'node:path';
import { z } from 'zod';
import { defaultCorsOrigins, originPatternProblem } from './cors';
import { parseMongoUri } from './mongodb-uri';
import { DEVELOPMENT_JWT_SECRET, DEVELOPMENT_SUBGRAPH_SECRET, publishedSecretProblem } from './published-secrets';

/** The subgraphs, by name: each listens on <NAME>_PORT (4001, 4002, ... in this order) and the gateway reaches it at <NAME>_URL. */
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

/** What the README's configuration table shows of a variable. */
export interface VariableDoc {
  readonly default: string;
  readonly description: string;
}

/** The documentation of every variable's schema. */
export const variableDocs = z.registry<VariableDoc>();

type Check = z.core.$RefinementCtx;

/** Refuse the value with `message`; the ConfigError names the variable. */
function refuse(ctx: Check, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

interface VariableSpec {
  readonly description: string;
  /** The default as the variable's text, read like a set value; absent: unset means undefined. */
  readonly default?: string;
  /** Shown in the table instead of `default` (a default that depends on other variables, or none). */
  readonly defaultText?: string;
  /** Which texts count as unset; default: the empty one. */
  readonly unset?: (raw: string) => boolean;
}

/**
 * A variable read from its text: unset takes `default`, itself text read the same way, so a
 * default is written once and always valid.
 */
function variable<T>(read: z.ZodType<T, string>, spec: VariableSpec & { readonly default: string }): z.ZodType<T, unknown>;
function variable<T>(read: z.ZodType<T, string>, spec: VariableSpec): z.ZodType<T | undefined, unknown>;
function variable<T>(read: z.ZodType<T, string>, spec: VariableSpec): z.ZodType<T | undefined, unknown> {
  const unset = spec.unset ?? ((raw: string) => raw === '');
  const schema = z.preprocess(
    (raw) => (raw === undefined || (typeof raw === 'string' && unset(raw)) ? undefined : raw),
    spec.default === undefined ? read.optional() : read.prefault(spec.default),
  );
  return schema.register(variableDocs, { description: spec.description, default: spec.defaultText ?? spec.default ?? '(unset)' });
}

const text = z.string();

const portNumber = text.transform((raw, ctx) => {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : refuse(ctx, `"${raw}" is not a port number (0-65535).`);
});

const positiveInt = text.transform((raw, ctx) => {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : refuse(ctx, `"${raw}" is not a positive integer.`);
});

const bool = text.transform((raw, ctx) => {
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  return refuse(ctx, `"${raw}" is not a boolean (use true or false).`);
});

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => `"${String(issue.input)}" is not one of ${values.join(', ')}.` });

const url = (...protocols: string[]) =>
  text.transform((raw, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return refuse(ctx, `"${raw}" is not a URL.`);
    }
    return protocols.includes(parsed.protocol) ? raw : refuse(ctx, `"${raw}" must use ${protocols.join(' or ')}.`);
  });

/** At least 32 characters; production's further demands are checked with NODE_ENV (see `loadConfig`). */
const secret = text.refine((raw) => raw.length >= 32, 'must be at least 32 characters long.');

const subgraphTitle = (name: SubgraphName) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

type SubgraphPortVariables = { [N in SubgraphName as ReturnType<typeof subgraphPortVariable<N>>]: ReturnType<typeof subgraphPort> };
type SubgraphUrlVariables = { [N in SubgraphName as ReturnType<typeof subgraphUrlVariable<N>>]: ReturnType<typeof subgraphUrl> };

const subgraphPort = (name: SubgraphName, index: number) =>
  variable(portNumber, { description: `${subgraphTitle(name)} subgraph port.`, default: String(4001 + index) });
const subgraphUrl = (name: SubgraphName) =>
  variable(url('http:', 'https:'), {
    description: `Where the gateway reaches the ${name} subgraph.`,
    defaultText: `http://localhost:$${subgraphPortVariable(name)}/graphql`,
  });

const subgraphPorts = Object.fromEntries(subgraphNames.map((name, i) => [subgraphPortVariable(name), subgraphPort(name, i)])) as SubgraphPortVariables;
const subgraphUrls = Object.fromEntries(subgraphNames.map((name) => [subgraphUrlVariable(name), subgraphUrl(name)])) as SubgraphUrlVariables;

/** Every variable, in the order the README's configuration table lists them. */
export const variables = {
  NODE_ENV: variable(oneOf(['development', 'test', 'production']), {
    description: '`development`, `test` or `production`. Production turns off Sandbox, introspection and schema suggestions in errors ("Did you mean ..."), and requires real secrets.',
    default: 'development',
  }),
  HOST: variable(text, { description: 'Interface every server binds to.', default: '0.0.0.0' }),
  PORT: variable(portNumber, { description: 'Gateway port (HTTP and WebSocket at /graphql).', default: '4000' }),
  ...subgraphPorts,
  WORKER_PORT: variable(portNumber, { description: 'Worker process port for /health and /metrics.', default: '4005' }),
  ...subgraphUrls,
  MONGODB_URI: variable(
    text.transform((raw, ctx) => {
      try {
        parseMongoUri(raw);
      } catch (error) {
        // The message never repeats the URI: it may hold a password.
        return refuse(ctx, `not a MongoDB connection string the driver accepts: ${(error as Error).message}`);
      }
      return raw;
    }),
    {
      description: 'MongoDB connection string, read by the driver\'s own parser: one host, a replica set (`mongodb://h1:27017,h2:27017,h3:27017/membership?replicaSet=rs0`) or Atlas (`mongodb+srv://user:pass@cluster0.example.mongodb.net/membership?retryWrites=true`). The database is the path, default `membership`. Unset: the embedded file-backed store.',
      defaultText: '(unset: embedded)',
    },
  ),
  MONGODB_TIMEOUT_MS: variable(positiveInt, {
    description: 'How long a MongoDB call waits for a server it can use (server selection, event store and document stores alike) before failing with UNAVAILABLE; also bounds the readiness ping. Above a replica set\'s election time (about 10 s) calls ride out a failover instead of failing; below it an outage answers sooner.',
    default: '5000',
  }),
  MONGODB_WRITE_CONCERN: variable(
    text.transform((raw, ctx): 'majority' | number => {
      if (raw === 'majority') return 'majority';
      const n = Number(raw);
      return Number.isInteger(n) && n >= 0 ? n : refuse(ctx, `"${raw}" is not "majority" or a non-negative integer.`);
    }),
    { description: 'Write concern for appends: `majority` or a number of nodes.', default: 'majority' },
  ),
  RABBITMQ_URL: variable(url('amqp:', 'amqps:'), {
    description: 'RabbitMQ connection (`amqp://user:pass@host:5672`, optionally `/<vhost>`). Unset: the in-process bus.',
    defaultText: '(unset: in-process)',
  }),
  RABBITMQ_HOSTS: variable(
    text.transform((raw, ctx): readonly string[] => {
      const hosts = raw.split(',').map((host) => host.trim());
      for (const host of hosts) {
        const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host);
        if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) {
          return refuse(ctx, `"${host}" is not a host or host:port (in a comma-separated list like rabbit-0:5672,rabbit-1:5672).`);
        }
      }
      return hosts;
    }),
    {
      description: 'Every node of a RabbitMQ cluster as `host:port`, comma-separated (`rabbit-0:5672,rabbit-1:5672,rabbit-2:5672`): each process connects to one of them (starting at a random one, so connections spread) and moves to the next when its node goes away. User, password and vhost still come from `RABBITMQ_URL`. Unset: `RABBITMQ_URL`\'s host only.',
      defaultText: "(unset: RABBITMQ_URL's host)",
      unset: (raw) => raw.trim() === '',
    },
  ),
  RABBITMQ_QUEUE_TYPE: variable(oneOf(['quorum', 'classic']), {
    description: 'Type of every durable queue (consumer, retry and dead-letter queues): `quorum` (replicated over a cluster\'s nodes: survives losing a minority of them) or `classic` (on one node). Subscriptions\' live queues and replays\' temporary queues are always classic and non-durable. A queue that exists with the other type stops the start with QUEUE_TYPE_MISMATCH naming it: see "Moving to quorum queues".',
    default: 'quorum',
  }),
  RABBITMQ_EXCHANGE: variable(
    text.transform((raw, ctx) =>
      /^[A-Za-z0-9._-]{1,200}$/.test(raw) && !raw.startsWith('amq.') && raw !== 'events.dlx'
        ? raw
        : refuse(ctx, `"${raw}" is not an exchange name: 1 to 200 letters, digits, ".", "_" or "-", not amq.* nor events.dlx.`),
    ),
    {
      description: 'The durable topic exchange events are published to (dead letters go to `<name>.dlx`, append announcements to `<name>.appends`). Keep the default: to run several deployments on one broker, give each its own virtual host in `RABBITMQ_URL` (`amqp://user:pass@host:5672/staging`), as the tests do.',
      default: 'events',
    },
  ),
  DATA_DIR: variable(
    text.transform((raw) => path.resolve(raw)),
    { description: 'Directory of the embedded event store and state files.', default: './data' },
  ),
  JWT_SECRET: variable(secret, {
    description: 'HS256 secret of client tokens (at least 32 characters). Required in production, where the development defaults, secrets written in this repository and ones of fewer than 8 different characters are refused; a loud development default otherwise.',
    defaultText: '(development default)',
  }),
  JWT_MAX_LIFETIME_SECONDS: variable(positiveInt, {
    description: 'Longest lifetime (from `iat` to `exp`) of a client token the gateway accepts; a token without `exp` is refused.',
    default: '86400',
  }),
  SUBGRAPH_SECRET: variable(secret, {
    description: 'Secret the gateway signs forwarded identities with; subgraphs refuse requests without a valid signature. Required in production, refused there as JWT_SECRET is.',
    defaultText: '(development default)',
  }),
  IN_PROCESS_SUBGRAPHS: variable(bool, {
    description: 'When the gateway runs in the same process as the subgraphs (`npm start`), call them in process: no HTTP and no JSON round trip, the same signed identity checked by the subgraph. `false`: over HTTP on their ports, as a split deployment does. Ignored by a gateway running alone.',
    default: 'true',
  }),
  SANDBOX: variable(bool, { description: 'Serve the Apollo Sandbox landing page at the gateway.', defaultText: 'true, false in production' }),
  CONSOLE_ENABLED: variable(bool, {
    description: 'Serve the web console (live operations pages and an offline GraphQL explorer) at `/console` on the gateway, from the files `npm run build` writes to `console/dist`.',
    defaultText: 'true, false in production',
  }),
  INTROSPECTION: variable(bool, { description: 'Allow introspection queries.', defaultText: 'true, false in production' }),
  LOG_LEVEL: variable(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), {
    description: 'pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
    default: 'info',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(url('http:', 'https:'), {
    description: 'OpenTelemetry collector (OTLP over HTTP) base URL, e.g. `http://otel-collector:4318`: traces go to `<url>/v1/traces`. Setting it (or `OTEL_TRACES_EXPORTER`) turns tracing on; unset, tracing is off and costs next to nothing. See *Tracing*.',
    defaultText: '(unset: no tracing)',
  }),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable(url('http:', 'https:'), {
    description: 'Full URL traces are posted to (`http://collector:4318/v1/traces`), instead of `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.',
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: variable(oneOf(['http/protobuf', 'http/json']), {
    description: 'OTLP encoding: `http/protobuf` or `http/json`.',
    default: 'http/protobuf',
  }),
  OTEL_EXPORTER_OTLP_HEADERS: variable(
    text.transform((raw, ctx): Readonly<Record<string, string>> => {
      const headers: Record<string, string> = {};
      for (const pair of raw.split(',')) {
        if (pair.trim() === '') continue;
        const at = pair.indexOf('=');
        const key = at > 0 ? pair.slice(0, at).trim() : '';
        if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) return refuse(ctx, 'expects key=value pairs separated by commas.');
        try {
          headers[key.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
        } catch {
          return refuse(ctx, `the value of "${key}" is not valid percent-encoding.`);
        }
      }
      return headers;
    }),
    {
      description: 'Headers sent with every export, `key=value` pairs separated by commas (`x-honeycomb-team=KEY`); values may be percent-encoded.',
      default: '',
      defaultText: '(none)',
    },
  ),
  OTEL_TRACES_EXPORTER: variable(oneOf(['otlp', 'console', 'none']), {
    description: 'Where spans go: `otlp` (the collector above), `console` (one line per span on stdout, for a look without a collector) or `none`. Unset: `otlp` when an endpoint is set, else `none`.',
    defaultText: 'otlp with an endpoint, else none',
  }),
  OTEL_SERVICE_NAME: variable(
    text.refine((raw) => raw.length <= 100, 'is longer than 100 characters.'),
    {
      description:
        'The `service.name` of this process\'s spans; by default `membership-gateway`, `membership-member`, `membership-payment`, `membership-certification`, `membership-analytics`, `membership-worker` (`membership` for `npm start`).',
      defaultText: 'membership-<process>',
    },
  ),
  OTEL_TRACES_SAMPLER: variable(
    oneOf(['parentbased_always_on', 'parentbased_traceidratio', 'parentbased_always_off', 'always_on', 'always_off', 'traceidratio']),
    {
      description: 'Which traces are kept: `parentbased_always_on`, `parentbased_traceidratio`, `parentbased_always_off`, `always_on`, `always_off` or `traceidratio`. Parent-based samplers follow the caller\'s `traceparent` decision, so a trace is kept or dropped whole across processes.',
      default: 'parentbased_always_on',
    },
  ),
  OTEL_TRACES_SAMPLER_ARG: variable(
    text.transform((raw, ctx) => {
      const n = Number(raw);
      return Number.isFinite(n) && n >= 0 && n <= 1 ? n : refuse(ctx, `"${raw}" is not a ratio from 0 to 1.`);
    }),
    { description: 'The ratio of traces kept (0 to 1) by the `traceidratio` samplers (`0.01`: one trace in a hundred).', default: '1' },
  ),
  QUEUE_PREFIX: variable(
    text.refine((raw) => /^[a-z0-9_.-]{0,40}$/.test(raw), { error: (issue) => `"${String(issue.input)}" may only hold a-z, 0-9, ".", "_" and "-" (at most 40).` }),
    {
      description: 'Prefix of every durable queue this deployment declares (`membership.crm`, ...), so deployments can share a broker.',
      default: 'membership.',
      // Empty is a prefix too: no prefix.
      unset: () => false,
    },
  ),
  SMTP_URL: variable(url('smtp:', 'smtps:'), {
    description: 'SMTP server for confirmation emails (`smtp://user:pass@host:587`). Unset: emails go to the local mailbox, readable as `Member.emails`.',
    defaultText: '(unset: local mailbox)',
  }),
  MAIL_FROM: variable(text, { description: 'Sender address of confirmation emails.', default: 'membership@localhost' }),
  SNAPSHOT_EVERY: variable(positiveInt, { description: 'Save an aggregate snapshot once this many events follow the last one.', default: '50' }),
  FOLLOWER_POLL_MS: variable(positiveInt, {
    description: 'How often the outbox relay and projections look for events appended by other processes when no announcement woke them (with RabbitMQ, processes announce their appends to each other; without it, or when an announcement is lost, this poll is how they learn).',
    default: '50',
  }),
  SAGA_STEP_TIMEOUT_MS: variable(positiveInt, {
    description: 'How long each step of the order saga (payment, stock, shipping, refund) may take before compensation starts, counting only time the workers ran (see *Saga deadlines and restarts*).',
    default: '30000',
  }),
  SAGA_TIMEOUT_SCAN_MS: variable(positiveInt, { description: 'How often the workers look for order sagas whose step timed out.', default: '1000' }),
  QUERY_MAX_TOKENS: variable(positiveInt, {
    description: 'Lexical tokens one GraphQL document may have at the gateway (HTTP and WebSocket); a longer one is refused with GRAPHQL_PARSE_FAILED.',
    default: '5000',
  }),
  QUERY_MAX_DEPTH: variable(positiveInt, {
    description: 'Selection depth one operation may reach at the gateway (introspection excepted); a deeper one is refused with GRAPHQL_VALIDATION_FAILED.',
    default: '12',
  }),
  QUERY_MAX_ALIASES: variable(positiveInt, {
    description: 'Aliases one operation may use at the gateway; more are refused with GRAPHQL_VALIDATION_FAILED.',
    default: '30',
  }),
  QUERY_MAX_DIRECTIVES: variable(positiveInt, {
    description: 'Directives one operation may use at the gateway; more are refused with GRAPHQL_VALIDATION_FAILED.',
    default: '50',
  }),
  CORS_ORIGINS: variable(
    text.transform((raw, ctx): string[] => {
      const origins = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
      for (const origin of origins) {
        const problem = originPatternProblem(origin);
        if (problem) return refuse(ctx, problem);
      }
      return origins;
    }),
    {
      description: 'Browser origins allowed to call the gateway (CORS), comma-separated: `https://app.example.com`, `http://localhost:*` (any port), `https://*.example.com` (any subdomain), or `*`. A preflight from one of them is answered 204 (methods, headers, credentials, max-age 2 h); any other origin is refused with 403 `FORBIDDEN` naming this variable. Requests without an `Origin` (servers, curl) and from the gateway\'s own origin (Sandbox) are not concerned. See "Frontends".',
      defaultText: 'http://localhost:*,http://127.0.0.1:*; none in production',
      unset: (raw) => raw.trim() === '',
    },
  ),
  WS_MAX_CONNECTIONS: variable(positiveInt, {
    description: 'Subscription connections one gateway accepts, all transports together (WebSockets, SSE streams, multipart responses); more are refused with HTTP 503 (at the upgrade for WebSockets).',
    default: '10000',
  }),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: variable(positiveInt, {
    description: 'Active subscriptions per WebSocket connection (and per graphql-sse single-connection stream); one more is refused with TOO_MANY_SUBSCRIPTIONS.',
    default: '100',
  }),
  WS_CONNECTION_INIT_TIMEOUT_MS: variable(positiveInt, {
    description: 'Time a WebSocket client has to send connection_init before it is closed with 4408 (and a graphql-sse client has to connect to the stream it reserved with PUT before the reservation is forgotten).',
    default: '3000',
  }),
  WS_MAX_PAYLOAD_BYTES: variable(positiveInt, {
    description: 'Largest WebSocket message, in bytes, the gateway and the subgraphs take (as the 1 MB limit of HTTP bodies); a bigger one closes the socket with 1009, refused from its frame header before it is read.',
    default: '1048576',
  }),
  WS_KEEPALIVE_MS: variable(positiveInt, {
    description: 'Interval of WebSocket pings that detect dead peers (gateway and subgraphs), and of the heartbeat parts of multipart subscriptions.',
    default: '12000',
  }),
  SUBSCRIPTION_BUFFER_SIZE: variable(positiveInt, {
    description: 'Events held per subscription for a slow client (gateway and subgraphs); on overflow the subscription ends with SUBSCRIPTION_OVERFLOW and the cursor to resume from.',
    default: '1000',
  }),
  PROCESSED_MARKER_RETENTION_HOURS: variable(positiveInt, {
    description: 'How long consumers remember which events they processed (to absorb redeliveries); older markers are pruned by the workers every 10 minutes.',
    default: '168',
  }),
  CERTIFICATION_EXPIRY_INTERVAL_MS: variable(positiveInt, {
    description: 'How often the certification expiry scheduler (worker process) looks for certifications entering their expiring-soon window or passing their expiry date.',
    default: '60000',
  }),
  ANALYTICS_ALLOWED_LATENESS_MS: variable(positiveInt, {
    description: 'How late (event time behind the newest event) an activity may arrive and still count in its 5-minute window; later ones are kept aside as late.',
    default: '30000',
  }),
  ANALYTICS_TICK_MS: variable(positiveInt, {
    description: 'How often the analytics stream processor checks whether processing time should close idle windows and decide absence patterns.',
    default: '1000',
  }),
  SHUTDOWN_TIMEOUT_MS: variable(positiveInt, { description: 'How long SIGTERM waits for in-flight work before closing anyway.', default: '10000' }),
};

export type VariableName = keyof typeof variables;

/**
 * The configuration schema: each variable on its own, then the defaults and rules that depend on
 * other variables (production turns things off and demands real secrets; URLs follow ports).
 */
export const configSchema = z.object(variables).transform((env, ctx) => {
  const production = env.NODE_ENV === 'production';
  const productionSecret = (name: 'JWT_SECRET' | 'SUBGRAPH_SECRET', devDefault: string): string => {
    const value = env[name];
    if (value === undefined) {
      if (production) ctx.addIssue({ code: 'custom', path: [name], message: 'must be set when NODE_ENV=production.' });
      return devDefault;
    }
    // Passed explicitly or not, a secret anyone can read is no secret in production.
    const published = production ? publishedSecretProblem(value) : null;
    if (published) ctx.addIssue({ code: 'custom', path: [name], message: published });
    return value;
  };
  const JWT_SECRET = productionSecret('JWT_SECRET', DEVELOPMENT_JWT_SECRET);
  const SUBGRAPH_SECRET = productionSecret('SUBGRAPH_SECRET', DEVELOPMENT_SUBGRAPH_SECRET);
  const endpoint = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const OTEL_TRACES_EXPORTER = env.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none');
  if (OTEL_TRACES_EXPORTER === 'otlp' && !endpoint) {
    ctx.addIssue({
      code: 'custom',
      path: ['OTEL_TRACES_EXPORTER'],
      message: 'is otlp but neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.',
    });
  }
  const urls = Object.fromEntries(
    subgraphNames.map((name) => [subgraphUrlVariable(name), env[subgraphUrlVariable(name)] ?? `http://localhost:${env[subgraphPortVariable(name)]}/graphql`]),
  ) as { readonly [K in keyof SubgraphUrlVariables]: string };
  return {
    ...env,
    ...urls,
    JWT_SECRET,
    SUBGRAPH_SECRET,
    SANDBOX: env.SANDBOX ?? !production,
    CONSOLE_ENABLED: env.CONSOLE_ENABLED ?? !production,
    INTROSPECTION: env.INTROSPECTION ?? !production,
    OTEL_TRACES_EXPORTER,
    CORS_ORIGINS: env.CORS_ORIGINS ?? defaultCorsOrigins(production),
    /** True when running on a development secret (so the start banner can warn). */
    usingDevelopmentSecrets: JWT_SECRET === DEVELOPMENT_JWT_SECRET || SUBGRAPH_SECRET === DEVELOPMENT_SUBGRAPH_SECRET,
  };
});

export type Config = Readonly<z.output<typeof configSchema>>;

const declarationOrder: readonly string[] = Object.keys(variables);

export function loadConfig(env: Env = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  // The first problem in the table's order, as a ConfigError naming its variable.
  const rank = (issue: z.core.$ZodIssue) => declarationOrder.indexOf(String(issue.path[0]));
  const [first] = [...parsed.error.issues].sort((a, b) => rank(a) - rank(b));
  throw new ConfigError(String(first?.path[0] ?? 'environment'), first?.message ?? 'is not valid.');
}

export function isKnownVariable(name: string): name is VariableName {
  return Object.prototype.hasOwnProperty.call(variables, name);
}

/** Every variable with its documented default and meaning, in table order. */
export function documentedVariables(): readonly ({ readonly name: VariableName } & VariableDoc)[] {
  return (Object.entries(variables) as [VariableName, z.ZodType][]).map(([name, schema]) => {
    const doc = variableDocs.get(schema);
    if (!doc) throw new Error(`${name} has no documentation`);
    return { name, ...doc };
  });
}

let cached: Config | undefined;
/** The process's configuration, read on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
