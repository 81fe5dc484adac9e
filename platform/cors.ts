// CORS at the gateway: which browser origins may call the API, and the answers browsers expect
// (a 204 preflight naming what may be sent, the origin echoed on the answer). The policy is pure
// (origin in, decision out); `applyCors` is its adapter to Node's http server.
//
// An origin neither allowed nor the server's own is refused with 403 FORBIDDEN, preflight or not:
// a browser app on another origin learns at once (in its console and the Network tab) that the
// gateway's CORS_ORIGINS lacks it. Requests without an Origin header (servers, curl) are untouched.
import type http from 'node:http';

/** `https://app.example.com`, `http://localhost:*` (any port), `https://*.example.com` (any subdomain), or `*`. */
export type OriginPattern = string;

export interface CorsPolicy {
  readonly origins: readonly OriginPattern[];
}

/** Methods the API answers from a browser: GET/POST (queries, mutations, SSE, multipart), PUT/DELETE (graphql-sse's single connection mode). */
export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const;
/** Request headers a browser may send: the token, JSON bodies, Apollo's and graphql-sse's own, ours. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'x-correlation-id',
  'idempotency-key',
  'x-graphql-event-stream-token',
  'last-event-id',
] as const;
/** Response headers a browser script may read. */
export const CORS_EXPOSED_HEADERS = ['x-correlation-id', 'retry-after'] as const;
/** How long a browser may cache a preflight answer (Chromium caps it at 2 hours). */
export const CORS_MAX_AGE_SECONDS = 7200;

/** The default allow-list: local development servers on any port, nothing in production. */
export function defaultCorsOrigins(production: boolean): OriginPattern[] {
  return production ? [] : ['http://localhost:*', 'http://127.0.0.1:*'];
}

/** Why a pattern is not one; null when it is. */
export function originPatternProblem(pattern: string): string | null {
  if (pattern === '*') return null;
  const match = /^(https?):\/\/(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(:(\d{1,5}|\*))?$/i.exec(pattern);
  if (!match) return `"${pattern}" is not an origin (scheme://host[:port], with :* for any port or *. for any subdomain, or *).`;
  return null;
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : '80';
}

/** Whether `origin` (as a browser sends it: scheme://host[:port]) matches `pattern`. */
export function originMatches(origin: string, pattern: OriginPattern): boolean {
  if (pattern === '*') return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin.toLowerCase()) return false; // paths, credentials: not an origin
  const match = /^(https?):\/\/(\*\.)?([^:/]+|\[[^\]]+\])(?::(\d+|\*))?$/i.exec(pattern);
  if (!match) return false;
  const [, scheme = '', anySubdomain, host = '', port] = match;
  if (url.protocol !== `${scheme.toLowerCase()}:`) return false;
  const hostname = url.hostname.toLowerCase();
  const wanted = host.toLowerCase();
  if (anySubdomain ? !hostname.endsWith(`.${wanted}`) : hostname !== wanted) return false;
  if (port === '*') return true;
  return (url.port || defaultPort(scheme)) === (port ?? defaultPort(scheme));
}

export type CorsDecision =
  /** Not a cross-origin request (no Origin, or the server's own): nothing to add. */
  | { readonly kind: 'none' }
  | { readonly kind: 'allowed'; readonly origin: string }
  | { readonly kind: 'refused'; readonly origin: string };

export function decideCors(policy: CorsPolicy, origin: string | undefined, ownOrigins: readonly string[]): CorsDecision {
  if (origin === undefined || origin === '') return { kind: 'none' };
  if (policy.origins.some((pattern) => originMatches(origin, pattern))) return { kind: 'allowed', origin };
  if (ownOrigins.includes(origin.toLowerCase())) return { kind: 'none' };
  return { kind: 'refused', origin };
}

/** The origins a request to this server has when it comes from a page the server itself served. */
function ownOriginsOf(req: http.IncomingMessage): string[] {
  const host = req.headers.host?.toLowerCase();
  return host ? [`http://${host}`, `https://${host}`] : [];
}

function appendVary(res: http.ServerResponse, value: string): void {
  const current = res.getHeader('vary');
  res.setHeader('vary', current ? `${String(current)}, ${value}` : value);
}

/**
 * Apply the policy to a request: sets the CORS headers of an allowed origin, answers a preflight
 * (204) or a refused origin (403) itself. Returns true when it answered (the request is done).
 */
export function applyCors(policy: CorsPolicy, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  appendVary(res, 'Origin');
  const decision = decideCors(policy, req.headers.origin, ownOriginsOf(req));
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (decision.kind === 'refused') {
    const body = JSON.stringify({
      errors: [
        {
          message: `The origin ${decision.origin} may not call this API: add it to the gateway's CORS_ORIGINS.`,
          extensions: { code: 'FORBIDDEN', origin: decision.origin },
        },
      ],
    });
    res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }
  if (decision.kind === 'none') return false;
  res.setHeader('access-control-allow-origin', decision.origin);
  res.setHeader('access-control-allow-credentials', 'true');
  if (!preflight) {
    res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '));
    return false;
  }
  appendVary(res, 'Access-Control-Request-Method, Access-Control-Request-Headers');
  res.writeHead(204, {
    'access-control-allow-methods': CORS_ALLOWED_METHODS.join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    'content-length': '0',
  });
  res.end();
  return true;
}
