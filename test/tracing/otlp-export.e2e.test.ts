// The configured exporter delivers spans to an OTLP/HTTP receiver (a minimal one on a free port), in
// the protocol's default protobuf encoding and in JSON, with the service name and parent links intact.
// The exporting runs in a process of its own from the build output (`npm run build` first), as the
// product's processes do: the exporter loads `http` with a dynamic import, which jest's module
// sandbox refuses.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from '../support/compose';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { eventually } from '../support/wait';

const run = promisify(execFile);

/** Start tracing from `env` in a new process, make `outer` > `inner`, print the traceparent seen inside `inner`, shut down. */
async function exportFromProcess(env: Record<string, string>): Promise<string> {
  const dist = (file: string) => JSON.stringify(path.join(repositoryRoot, 'dist', 'platform', file));
  const script = `
    const { loadConfig } = require(${dist('config.js')});
    const { startTracing, inSpan, traceHeaders } = require(${dist('tracing.js')});
    const tracing = startTracing(loadConfig(), { serviceName: 'membership-default-name' });
    inSpan('outer', { attributes: { 'membership.correlation_id': 'c-1' } }, () =>
      inSpan('inner', {}, async () => process.stdout.write(traceHeaders().traceparent || '')),
    ).then(() => tracing.shutdown());`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, timeout: 20_000 });
  return stdout.trim();
}

describe('OTLP/HTTP export', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(() => receiver.close());

  it.each([
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ] as const)('delivers spans in %s to OTEL_EXPORTER_OTLP_ENDPOINT', async (protocol, contentType) => {
    const traceparent = await exportFromProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'membership-export-test' });
    const spans = await eventually(() => (receiver.spans.length >= 2 ? receiver.spans : null), 'the receiver to get both spans');
    expect(receiver.contentTypes[0]).toContain(contentType);
    const outer = spans.find((s) => s.name === 'outer');
    const inner = spans.find((s) => s.name === 'inner');
    expect(outer).toMatchObject({ service: 'membership-export-test', parentSpanId: '', attributes: { 'membership.correlation_id': 'c-1' } });
    expect(inner).toMatchObject({ service: 'membership-export-test', traceId: outer?.traceId, parentSpanId: outer?.spanId });
    // What was propagated inside `inner` names the spans the receiver got.
    expect(traceparent).toBe(`00-${inner?.traceId}-${inner?.spanId}-01`);
  });

  it('posts to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, with OTEL_EXPORTER_OTLP_HEADERS and the default service name', async () => {
    await exportFromProcess({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_EXPORTER_OTLP_HEADERS: 'x-team=blue%20team' });
    await eventually(() => receiver.spans.length >= 2, 'the spans');
    expect(receiver.headers[0]?.['x-team']).toBe('blue team');
    expect(receiver.spans.map((s) => [s.name, s.service]).sort()).toEqual([
      ['inner', 'membership-default-name'],
      ['outer', 'membership-default-name'],
    ]);
  });

  it('exports nothing and propagates nothing when no endpoint is configured', async () => {
    const traceparent = await exportFromProcess({});
    expect(traceparent).toBe('');
  });
});
