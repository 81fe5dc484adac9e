// A minimal OTLP/HTTP trace receiver for tests: POST /v1/traces on a free port, bodies decoded from
// protobuf (the protocol's default; a small wire-format reader of the fields tests look at) or JSON,
// kept as a flat list of spans with their service name.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Content types of the requests received, in order. */
  readonly contentTypes: string[];
  /** Headers of the requests received, in order. */
  readonly headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      contentTypes.push(type);
      headers.push(req.headers);
      const body = Buffer.concat(chunks);
      try {
        spans.push(...(type.startsWith('application/json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
        return;
      }
      // An empty ExportTraceServiceResponse, in the request's encoding.
      if (type.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- OTLP JSON ----------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

function jsonAttributes(list: readonly JsonKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function fromJson(body: {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: JsonKeyValue[]; links?: { traceId: string; spanId: string }[] }[] }[];
  }[];
}): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(jsonAttributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        out.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind,
          attributes: jsonAttributes(span.attributes),
          links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
        });
      }
    }
  }
  return out;
}

// --- OTLP protobuf (opentelemetry/proto/collector/trace/v1) --------------------------------------

type Field = { readonly number: number; readonly wire: number; readonly value: bigint | Buffer };

/** The fields of one protobuf message, in order (varint, 64-bit, length-delimited and 32-bit). */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const number = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ number, wire, value: varint() });
    else if (wire === 1) {
      out.push({ number, wire, value: buffer.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ number, wire, value: buffer.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      out.push({ number, wire, value: buffer.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (list: Field[], number: number): Buffer[] => list.filter((f) => f.number === number && Buffer.isBuffer(f.value)).map((f) => f.value as Buffer);
const firstBytes = (list: Field[], number: number): Buffer => bytesOf(list, number)[0] ?? Buffer.alloc(0);

/** KeyValue { key = 1; AnyValue value = 2 { string 1, bool 2, int 3, double 4 } }. */
function protoAttributes(list: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    const f = fields(kv);
    const key = firstBytes(f, 1).toString('utf8');
    const value = fields(firstBytes(f, 2))[0];
    if (!value) continue;
    if (value.number === 1) out[key] = (value.value as Buffer).toString('utf8');
    else if (value.number === 2) out[key] = value.value === 1n;
    else if (value.number === 3) out[key] = Number(value.value as bigint);
    else if (value.number === 4) out[key] = (value.value as Buffer).readDoubleLE(0);
  }
  return out;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }
  for (const resourceSpans of bytesOf(fields(body), 1)) {
    const rs = fields(resourceSpans);
    // ResourceSpans { Resource resource = 1 { repeated KeyValue attributes = 1 }; repeated ScopeSpans scope_spans = 2 }
    const service = String(protoAttributes(bytesOf(fields(firstBytes(rs, 1)), 1))['service.name'] ?? '');
    for (const scopeSpans of bytesOf(rs, 2)) {
      // ScopeSpans { repeated Span spans = 2 }
      for (const spanBytes of bytesOf(fields(scopeSpans), 2)) {
        // Span { trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9, links 13 { trace_id 1, span_id 2 } }
        const s = fields(spanBytes);
        const kind = s.find((f) => f.number === 6)?.value;
        out.push({
          service,
          traceId: firstBytes(s, 1).toString('hex'),
          spanId: firstBytes(s, 2).toString('hex'),
          parentSpanId: firstBytes(s, 4).toString('hex'),
          name: firstBytes(s, 5).toString('utf8'),
          kind: typeof kind === 'bigint' ? Number(kind) : 0,
          attributes: protoAttributes(bytesOf(s, 9)),
          links: bytesOf(s, 13).map((link) => {
            const l = fields(link);
            return { traceId: firstBytes(l, 1).toString('hex'), spanId: firstBytes(l, 2).toString('hex') };
          }),
        });
      }
    }
  }
  return out;
}
