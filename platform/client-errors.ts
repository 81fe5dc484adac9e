// What an error may show a client, wherever one is answered (gateway over HTTP and WebSocket,
// subgraphs): at most ECHO_LIMIT characters of any one value the client sent, no schema
// suggestions in production ("Did you mean ..." names what introspection hides), no stack trace
// and no internal response (a subgraph's URL or raw body).
import type { GraphQLFormattedError } from 'graphql';

/** Characters of one client-supplied value an error repeats; a longer one is cut and ends in "…". */
export const ECHO_LIMIT = 100;
/** Longest error message answered, whatever it is made of. */
export const MESSAGE_LIMIT = 500;

/** `text` cut to `max` characters plus "…" (never inside a surrogate pair). */
export function truncate(text: string, max = ECHO_LIMIT): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const cut = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, cut)}…`;
}

/** A client's value, quoted and cut, for a message: `Unknown sku ${echo(sku)}`. */
export function echo(value: unknown): string {
  return `"${truncate(String(value))}"`;
}

const SUGGESTION = 'Did you mean';

/**
 * The message without graphql-js's suggestion, which it appends last (validation and variable
 * coercion alike). Not Apollo's hideSchemaDetailsFromClientErrors: it covers validation only, and
 * its pattern (/ ?Did you mean(.+?)\?$/) takes time quadratic in a message that repeats input
 * holding "Did you mean" many times (70 s of CPU for one 1 MB request).
 */
export function withoutSuggestions(message: string): string {
  if (!message.endsWith('?')) return message;
  const at = message.lastIndexOf(SUGGESTION);
  if (at === -1) return message;
  return message.slice(0, at > 0 && message[at - 1] === ' ' ? at - 1 : at);
}

/**
 * A message with every quoted value and every word cut to ECHO_LIMIT, the whole to MESSAGE_LIMIT.
 * One pass that stops once the limit is reached: a message repeating a megabyte of input costs
 * about a millisecond (patterns over the whole, or slices of it, cost a hundred times that).
 */
export function capEchoes(message: string): string {
  let out = '';
  for (let start = 0, inside = false; out.length <= MESSAGE_LIMIT; inside = !inside) {
    const quote = message.indexOf('"', start);
    const part = message.slice(start, quote === -1 ? undefined : quote);
    out += inside ? truncate(part) : capWords(part, MESSAGE_LIMIT - out.length);
    if (quote === -1) break;
    out += '"';
    start = quote + 1;
  }
  return truncate(out, MESSAGE_LIMIT);
}

const SPACE = /\s/g;

/** `text` with each word cut to ECHO_LIMIT, as far as `budget` characters of it. */
function capWords(text: string, budget: number): string {
  let out = '';
  let start = 0;
  while (start < text.length && out.length <= budget) {
    SPACE.lastIndex = start;
    const space = SPACE.exec(text);
    const end = space ? space.index : text.length;
    out += truncate(text.slice(start, end));
    if (!space) break;
    out += space[0];
    start = end + 1;
  }
  return out;
}

/** Strings in extensions (error details such as an id) cut the same way. */
function capValues(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return truncate(value);
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => capValues(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capValues(v, depth + 1)]));
}

export interface ClientErrorOptions {
  /** Production: drop "Did you mean ...?" suggestions. */
  readonly hideSuggestions: boolean;
}

/** A formatted error as a client may see it (see the module comment). */
export function clientSafe(formatted: GraphQLFormattedError, options: ClientErrorOptions): GraphQLFormattedError {
  const message = options.hideSuggestions ? withoutSuggestions(formatted.message) : formatted.message;
  const safe: GraphQLFormattedError = { ...formatted, message: capEchoes(message) };
  if (!formatted.extensions) return safe;
  const { stacktrace: _stacktrace, response: _response, exception: _exception, ...extensions } = formatted.extensions;
  return { ...safe, extensions: capValues(extensions) as Record<string, unknown> };
}
