// Reading a request's body: bounded, as text, and the JSON body of a GraphQL POST.
//
// A GraphQL POST from the gateway or a client is, nearly always, `content-type: application/json`
// with a Content-Length, in UTF-8, not compressed: that body is read here directly (chunks joined,
// JSON.parse). Every other body (compressed, another charset, chunked, over the limit) goes through
// body-parser, which handles them all. body-parser's general path (type-is, content-type,
// raw-body, iconv-lite, on-finished, per request) was 2.6 % of the gateway's CPU and 4.5 % of a
// subgraph's on a one-subgraph query (BENCHMARKS.md, issue 24); the direct path gives the same
// answers for the bodies it takes: the parsed value, `{}` for an empty JSON text as body-parser
// gives, and a 400 for malformed JSON.
import type http from 'node:http';
import bodyParser from 'body-parser';

export class BodyTooLarge extends Error {}

/** The request's body as text, refused past `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new BodyTooLarge(`The request body is larger than ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8')));
  });
}

/** A body refused: malformed JSON (400), too large (413), an unsupported charset or encoding (415). */
export interface BodyError extends Error {
  readonly status?: number;
}

/** `application/json`, with no parameter or with UTF-8 as its charset. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/**
 * A JSON body reader for one route: `read(req, res)` sets `req.body` (left undefined for a request
 * without a JSON body, as body-parser leaves it) and resolves with null, or with the error to answer.
 */
export function jsonBodyReader(limitBytes: number): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<BodyError | null> {
  const general = bodyParser.json({ limit: limitBytes });
  return (req, res) => {
    const length = plainJsonLength(req);
    if (length === null || length > limitBytes) {
      return new Promise((resolve) => general(req, res, (error?: unknown) => resolve((error as BodyError | undefined) ?? null)));
    }
    if (length === 0) return Promise.resolve(null);
    const request = req as http.IncomingMessage & { body?: unknown };
    return readBody(req, limitBytes).then(
      (text) => {
        try {
          request.body = parseJsonObject(text);
          return null;
        } catch (error) {
          return Object.assign(error as Error, { status: 400 });
        }
      },
      (error: unknown) => Object.assign(error instanceof Error ? error : new Error(String(error)), { status: error instanceof BodyTooLarge ? 413 : 400 }),
    );
  };
}

/** The Content-Length of a plain JSON body (UTF-8, not encoded, length given); null for any other. */
function plainJsonLength(req: http.IncomingMessage): number | null {
  const { headers } = req;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return null;
  const type = headers['content-type'];
  const length = headers['content-length'];
  if (type === undefined || length === undefined || !PLAIN_JSON.test(type)) return null;
  const bytes = Number(length);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null;
}

/** JSON.parse as body-parser's strict mode: an object or an array, `{}` for blank text. */
function parseJsonObject(text: string): unknown {
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return {};
  if (first !== '{' && first !== '[') throw new SyntaxError(`Unexpected token '${first}': the body must be a JSON object or array.`);
  return JSON.parse(text) as unknown;
}
