// The kustomize base in deploy/kubernetes/, checked without a cluster: every manifest against the
// Kubernetes API's schemas (the OpenAPI schemas of Kubernetes 1.27 as the `kubernetes-models`
// package compiles them for ajv: types, required fields, enums), and against the API's field names
// (a misspelt field, which the API server would drop or refuse, fails TypeScript's excess property
// check on the package's types); then against the product: only variables the config module
// knows, an environment it accepts once real secrets are in, probes on /ready and /health, drain
// time within the grace period, the same commands as docker-compose.yml, and per Deployment a
// Service, a PodDisruptionBudget and a HorizontalPodAutoscaler.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { isKnownVariable, loadConfig, variables } from '../../platform/config';
import { builtServices, commandOf, readCompose } from '../support/compose';
import { randomSecret } from '../support/secrets';

const root = path.resolve(__dirname, '..', '..');
const base = path.join(root, 'deploy', 'kubernetes');

/** The kinds the base may hold: the package's model (its validate() runs the schema) and the module of its type. */
const kinds = {
  'apps/v1/Deployment': { model: Deployment, typeModule: 'kubernetes-models/apps/v1/Deployment', typeName: 'IDeployment' },
  'v1/Service': { model: Service, typeModule: 'kubernetes-models/v1/Service', typeName: 'IService' },
  'v1/ConfigMap': { model: ConfigMap, typeModule: 'kubernetes-models/v1/ConfigMap', typeName: 'IConfigMap' },
  'v1/Secret': { model: Secret, typeModule: 'kubernetes-models/v1/Secret', typeName: 'ISecret' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, typeModule: 'kubernetes-models/policy/v1/PodDisruptionBudget', typeName: 'IPodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, typeModule: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', typeName: 'IHorizontalPodAutoscaler' },
} as const;
type KindKey = keyof typeof kinds;

interface Manifest {
  readonly file: string;
  readonly doc: Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };
}

const kustomization = YAML.parse(fs.readFileSync(path.join(base, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images?: { name: string }[] };
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  YAML.parseAllDocuments(fs.readFileSync(path.join(base, file), 'utf8'))
    .map((d) => d.toJSON() as Manifest['doc'] | null)
    .filter((doc): doc is Manifest['doc'] => doc !== null)
    .map((doc) => ({ file, doc })),
);
const keyOf = (m: Manifest) => `${m.doc.apiVersion}/${m.doc.kind}`;
const ofKind = <T>(kind: KindKey): (T & { file: string })[] => manifests.filter((m) => keyOf(m) === kind).map((m) => ({ ...(m.doc as unknown as T), file: m.file }));

const deployments = ofKind<IDeployment>('apps/v1/Deployment');
const services = ofKind<IService>('v1/Service');
const configMap = ofKind<IConfigMap>('v1/ConfigMap')[0];
const secret = ofKind<ISecret>('v1/Secret')[0];

/** What a container's process sees: its ConfigMap and Secret (envFrom) and its own env. */
function environmentOf(deployment: IDeployment, secretValues: Record<string, string>): Record<string, string> {
  const container = deployment.spec?.template.spec?.containers[0];
  const env: Record<string, string> = {};
  for (const from of container?.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, ofKind<IConfigMap>('v1/ConfigMap').find((c) => c.metadata?.name === from.configMapRef?.name)?.data);
    if (from.secretRef) {
      const s = ofKind<ISecret>('v1/Secret').find((c) => c.metadata?.name === from.secretRef?.name);
      for (const key of Object.keys(s?.stringData ?? {})) env[key] = secretValues[key] ?? String(s?.stringData?.[key]);
    }
  }
  for (const e of container?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

describe('deploy/kubernetes (kustomize base)', () => {
  it('lists every manifest file in kustomization.yaml, and each exists', () => {
    const files = fs.readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.images?.map((i) => i.name)).toEqual(['membership-events']);
  });

  it('holds only kinds of the Kubernetes API it is checked against, each with a name', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) {
      expect({ file: m.file, kind: keyOf(m), known: keyOf(m) in kinds }).toEqual({ file: m.file, kind: keyOf(m), known: true });
      expect(m.doc.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('validates every manifest against the Kubernetes API schema', () => {
    const problems: string[] = [];
    for (const m of manifests) {
      const { model } = kinds[keyOf(m) as KindKey];
      try {
        new (model as unknown as new (data: unknown) => { validate(): void })(m.doc).validate();
      } catch (error) {
        problems.push(`${m.file} ${m.doc.kind}/${m.doc.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the schema check does fail on a broken manifest (a replica count as a string, a container without a name)', () => {
    const gateway = deployments.find((d) => d.metadata?.name === 'gateway');
    const broken = JSON.parse(JSON.stringify(gateway)) as { spec: { replicas: unknown; template: { spec: { containers: { name?: unknown }[] } } } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
    const nameless = JSON.parse(JSON.stringify(gateway)) as typeof broken;
    delete nameless.spec.template.spec.containers[0]?.name;
    expect(() => new Deployment(nameless as never).validate()).toThrow(/containers\/0 must have required property name/);
  });

  it('uses only field names of the Kubernetes API (no misspelt field is silently dropped)', () => {
    // Each manifest as an object literal typed with the API type: TypeScript refuses unknown fields.
    const lines = Object.values(kinds).map((k) => `import type { ${k.typeName} } from '${k.typeModule}';`);
    manifests.forEach((m, i) => lines.push(`export const m${i}: ${kinds[keyOf(m) as KindKey].typeName} = ${JSON.stringify(m.doc)};`));
    lines.push(`export const misspelt: IDeployment = ${JSON.stringify({ ...deployments[0], file: undefined, spec: { ...deployments[0]?.spec, replica: 2 } })};`);
    const file = path.join(root, 'test', 'foundation', '__kubernetes_manifests__.ts');
    const host = ts.createCompilerHost({});
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (path.resolve(name) === file ? lines.join('\n') : readFile(name));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
    const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [] }, host);
    const messages = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    const misspeltLine = lines.length;
    // The planted misspelling is caught (so the check works), and nothing else is.
    expect(messages.filter((m) => m.startsWith(`line ${misspeltLine}:`)).join('\n')).toMatch(/'"replica"' does not exist in type 'IDeploymentSpec'/);
    expect(messages.filter((m) => !m.startsWith(`line ${misspeltLine}:`))).toEqual([]);
  }, 60_000);

  it('runs the gateway, each subgraph and the worker, with the commands of docker-compose.yml', () => {
    const compose = new Map(builtServices(readCompose()).map(([name, service]) => [name, commandOf(service)]));
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual([...compose.keys()].sort());
    for (const d of deployments) {
      const container = d.spec?.template.spec?.containers[0];
      expect({ name: d.metadata?.name, command: container?.command }).toEqual({ name: d.metadata?.name, command: compose.get(d.metadata?.name ?? '') });
      expect(container?.image).toBe('membership-events');
      expect(d.spec?.template.spec?.containers).toHaveLength(1);
    }
  });

  it('sets only environment variables the config module knows (ConfigMap, Secret and each container)', () => {
    const unknown: string[] = [];
    for (const key of Object.keys(configMap?.data ?? {})) if (!isKnownVariable(key)) unknown.push(`ConfigMap: ${key}`);
    for (const key of Object.keys(secret?.stringData ?? {})) if (!isKnownVariable(key)) unknown.push(`Secret: ${key}`);
    for (const d of deployments) {
      for (const e of d.spec?.template.spec?.containers[0]?.env ?? []) if (!isKnownVariable(e.name)) unknown.push(`${d.metadata?.name}: ${e.name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('takes the secrets from the Secret only, with placeholders the product refuses to start on', () => {
    const secretKeys = ['JWT_SECRET', 'SUBGRAPH_SECRET', 'MONGODB_URI', 'RABBITMQ_URL'];
    expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual([...secretKeys].sort());
    for (const key of secretKeys) expect({ key, inConfigMap: key in (configMap?.data ?? {}) }).toEqual({ key, inConfigMap: false });
    for (const d of deployments) {
      const container = d.spec?.template.spec?.containers[0];
      expect(container?.envFrom?.map((f) => f.secretRef?.name ?? f.configMapRef?.name)).toEqual(['membership-config', 'membership-secrets']);
      for (const e of container?.env ?? []) expect({ deployment: d.metadata?.name, env: e.name, secret: secretKeys.includes(e.name) }).toEqual({ deployment: d.metadata?.name, env: e.name, secret: false });
      // As committed (placeholders), the config module stops the start, naming the variable.
      expect(() => loadConfig(environmentOf(d, {}))).toThrow(/JWT_SECRET: must be at least 32 characters/);
    }
  });

  it('gives every process an environment the config module accepts once real secrets are in, on MongoDB and a RabbitMQ cluster of quorum queues', () => {
    const real = { JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret() };
    for (const d of deployments) {
      const config = loadConfig(environmentOf(d, real));
      expect({ name: d.metadata?.name, env: config.NODE_ENV, queues: config.RABBITMQ_QUEUE_TYPE, nodes: config.RABBITMQ_HOSTS?.length }).toEqual({
        name: d.metadata?.name,
        env: 'production',
        queues: 'quorum',
        nodes: 3,
      });
      // MongoDB and RabbitMQ are reached through the external Services of the base.
      const external = services.filter((s) => s.spec?.type === 'ExternalName').map((s) => s.metadata?.name);
      expect(external).toEqual(expect.arrayContaining([new URL(config.MONGODB_URI ?? 'mongodb://none').hostname, new URL(config.RABBITMQ_URL ?? 'amqp://none').hostname]));
      // Its listening port is its container's port named http.
      const portVariable = Object.keys(variables).find((v) => /PORT$/.test(v) && d.spec?.template.spec?.containers[0]?.env?.some((e) => e.name === v));
      const container = d.spec?.template.spec?.containers[0];
      expect(container?.ports?.find((p) => p.name === 'http')?.containerPort).toBe(config[portVariable as 'PORT']);
    }
  });

  it('probes readiness on /ready (gateway) or /health and liveness on /health, on the http port', () => {
    for (const d of deployments) {
      const container = d.spec?.template.spec?.containers[0];
      const ready = d.metadata?.name === 'gateway' ? '/ready' : '/health';
      expect({ name: d.metadata?.name, readiness: container?.readinessProbe?.httpGet?.path, liveness: container?.livenessProbe?.httpGet?.path }).toEqual({ name: d.metadata?.name, readiness: ready, liveness: '/health' });
      expect(container?.readinessProbe?.httpGet?.port).toBe('http');
      expect(container?.livenessProbe?.httpGet?.port).toBe('http');
    }
  });

  it('lets a pod drain: the grace period is longer than SHUTDOWN_TIMEOUT_MS', () => {
    for (const d of deployments) {
      const config = loadConfig(environmentOf(d, { JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret() }));
      const graceMs = (d.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      expect({ name: d.metadata?.name, longer: graceMs > config.SHUTDOWN_TIMEOUT_MS + 5_000 }).toEqual({ name: d.metadata?.name, longer: true });
    }
  });

  it('requests CPU and memory and bounds memory for every container', () => {
    for (const d of deployments) {
      const resources = d.spec?.template.spec?.containers[0]?.resources;
      expect({ name: d.metadata?.name, cpu: !!resources?.requests?.cpu, memory: !!resources?.requests?.memory, limit: !!resources?.limits?.memory }).toEqual({ name: d.metadata?.name, cpu: true, memory: true, limit: true });
    }
  });

  it('gives every Deployment a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler that select or target it', () => {
    const pdbs = ofKind<IPodDisruptionBudget>('policy/v1/PodDisruptionBudget');
    const hpas = ofKind<IHorizontalPodAutoscaler>('autoscaling/v2/HorizontalPodAutoscaler');
    for (const d of deployments) {
      const labels = d.spec?.template.metadata?.labels ?? {};
      const selects = (selector: Record<string, string> | undefined) => !!selector && Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(d.spec?.selector.matchLabels && selects(d.spec.selector.matchLabels)).toBe(true);
      const service = services.find((s) => selects(s.spec?.selector));
      expect({ name: d.metadata?.name, service: service?.spec?.ports?.[0]?.targetPort }).toEqual({ name: d.metadata?.name, service: 'http' });
      const pdb = pdbs.find((p) => selects(p.spec?.selector?.matchLabels));
      expect({ name: d.metadata?.name, pdb: pdb?.spec?.maxUnavailable ?? pdb?.spec?.minAvailable }).toEqual({ name: d.metadata?.name, pdb: 1 });
      const hpa = hpas.find((h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata?.name);
      expect({ name: d.metadata?.name, min: hpa?.spec?.minReplicas }).toEqual({ name: d.metadata?.name, min: d.spec?.replicas });
      expect(hpa?.spec?.maxReplicas ?? 0).toBeGreaterThan(d.spec?.replicas ?? 0);
      // At least two replicas: a PodDisruptionBudget of one leaves one serving.
      expect(d.spec?.replicas ?? 0).toBeGreaterThanOrEqual(2);
    }
  });

  it("points the gateway at each subgraph's Service on the port that subgraph listens on", () => {
    const gateway = deployments.find((d) => d.metadata?.name === 'gateway') as IDeployment;
    const env = environmentOf(gateway, {});
    for (const subgraph of ['member', 'payment', 'certification', 'analytics']) {
      const url = new URL(env[`${subgraph.toUpperCase()}_URL`] ?? 'http://missing');
      const service = services.find((s) => s.metadata?.name === url.hostname);
      const target = deployments.find((d) => d.metadata?.name === subgraph);
      expect({ subgraph, port: Number(url.port) }).toEqual({ subgraph, port: service?.spec?.ports?.[0]?.port });
      expect({ subgraph, port: Number(url.port) }).toEqual({ subgraph, port: target?.spec?.template.spec?.containers[0]?.ports?.[0]?.containerPort });
      expect(url.pathname).toBe('/graphql');
    }
  });
});
