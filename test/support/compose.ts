// docker-compose.yml read as compose reads it (the parts the tests use): its services, their
// commands, environments with `${NAME:-default}` / `${NAME:?message}` interpolation, dependencies,
// healthchecks and ports. Used by the compose file's static checks and by the deployment e2e that
// starts every service the way the file says.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

export const repositoryRoot = path.resolve(__dirname, '..', '..');

// Only the parts of the compose format these checks read; the short and long syntaxes both parse.
const stringOrList = z.union([z.string(), z.array(z.string())]);
export const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
  command: stringOrList.optional(),
  environment: z
    .union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])), z.array(z.string())])
    .optional(),
  depends_on: z
    .union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string().optional() }))])
    .optional(),
  healthcheck: z.object({ test: stringOrList.optional(), disable: z.boolean().optional() }).optional(),
  ports: z
    .array(
      z.union([
        z.string(),
        z.number(),
        z.object({ target: z.number(), published: z.union([z.string(), z.number()]).optional() }),
      ]),
    )
    .optional(),
  volumes: z.array(z.union([z.string(), z.object({ source: z.string().optional(), target: z.string() })])).optional(),
  container_name: z.string().optional(),
  restart: z.string().optional(),
});
export const composeSchema = z.object({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown()).optional(),
});
export type Service = z.infer<typeof serviceSchema>;

export type Compose = z.infer<typeof composeSchema>;

/** The compose file (docker-compose.yml at the repository root unless given). */
export function readCompose(file: string = path.join(repositoryRoot, 'docker-compose.yml')): Compose {
  // Compose reads YAML merge keys (`<<: *service`); YAML 1.2 parsers need them switched on.
  return composeSchema.parse(YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true }));
}

/** Our services: the ones built from the Dockerfile (MongoDB and RabbitMQ are official images). */
export function builtServices(compose: Compose): [string, Service][] {
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
}

export function environmentOf(service: Service): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split('=')[0] ?? '', entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Resolves `${NAME:-default}` and `${NAME:?message}` as compose would, with `host` as the host environment. */
export function interpolate(value: string, host: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_all, name: string, op?: string, arg?: string) => {
    const set = host[name];
    if (set !== undefined && set !== '') return set;
    if (op === '?') throw new Error(`${name} is required: ${arg ?? ''}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

export function commandOf(service: Service): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : command;
}

/** `dist/subgraphs/member/main.js` from the service's command. */
export function buildEntryOf(service: Service): string | undefined {
  return commandOf(service).find((token) => /^dist\/.+\.js$/.test(token));
}

export function dependenciesOf(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on;
  if (deps === undefined) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

export function healthcheckText(service: Service): string | undefined {
  const test = service.healthcheck?.test;
  if (test === undefined || service.healthcheck?.disable) return undefined;
  return typeof test === 'string' ? test : test.join(' ');
}

/** The port a service listens on, from the variable that sets it (PORT, MEMBER_PORT, ...). */
export function listenPortOf(service: Service): { variable: string; port: number } | undefined {
  const entry = Object.entries(environmentOf(service)).find(([name]) => /^([A-Z]+_)?PORT$/.test(name));
  return entry ? { variable: entry[0], port: Number(entry[1]) } : undefined;
}

export function publishedPorts(service: Service): { published: number; target: number }[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: Number(p.published ?? p.target), target: p.target };
    const parts = String(p).split(':');
    const target = Number(parts[parts.length - 1]);
    return { published: parts.length > 1 ? Number(parts[parts.length - 2]) : target, target };
  });
}

export function volumeMounts(service: Service): { source: string | undefined; target: string }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return { source, target: target ?? source ?? '' };
  });
}

