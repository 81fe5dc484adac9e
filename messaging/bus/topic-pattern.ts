// AMQP topic-pattern matching for the in-process bus: `*` is exactly one word, `#` zero or more,
// words are dot-separated. Pure, so the in-process bus routes exactly as a RabbitMQ topic exchange.
import { ValidationError } from '../../platform/errors';

/** Throws a ValidationError naming the pattern when it is not a valid topic binding key. */
export function assertTopicPattern(pattern: string): void {
  if (pattern.length > 255) {
    throw new ValidationError(`Topic pattern "${pattern.slice(0, 40)}..." is longer than 255 characters.`, { pattern });
  }
  // RabbitMQ accepts an empty binding key (it matches only the empty routing key); words inside a
  // pattern must not be empty, otherwise `member..created` would silently match nothing.
  if (pattern === '') return;
  for (const word of pattern.split('.')) {
    if (word === '') {
      throw new ValidationError(`Topic pattern "${pattern}" has an empty word: use "a.b", "a.*" or "a.#".`, { pattern });
    }
  }
}

/** True when `routingKey` matches the AMQP topic `pattern`. */
export function matchesTopic(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: readonly string[], p: number, key: readonly string[], k: number): boolean {
  // Iterative over plain words and `*`; recursion only at `#`, collapsing runs of `#` first so a
  // pattern like `#.#.#` cannot explode combinatorially.
  while (p < pattern.length) {
    const word = pattern[p];
    if (word === '#') {
      while (pattern[p + 1] === '#') p++;
      if (p === pattern.length - 1) return true;
      for (let skip = k; skip <= key.length; skip++) {
        if (matchWords(pattern, p + 1, key, skip)) return true;
      }
      return false;
    }
    if (k >= key.length) return false;
    if (word !== '*' && word !== key[k]) return false;
    p++;
    k++;
  }
  return k === key.length;
}

/** A compiled set of bindings: does any of them match a routing key? Results are cached per key. */
export class TopicBindings {
  private readonly patterns = new Set<string>();
  private readonly cache = new Map<string, boolean>();

  add(pattern: string): void {
    assertTopicPattern(pattern);
    if (this.patterns.has(pattern)) return;
    this.patterns.add(pattern);
    this.cache.clear();
  }

  matches(routingKey: string): boolean {
    const cached = this.cache.get(routingKey);
    if (cached !== undefined) return cached;
    let result = false;
    for (const pattern of this.patterns) {
      if (matchesTopic(pattern, routingKey)) {
        result = true;
        break;
      }
    }
    // Routing keys are event types (a bounded set), but unknown types could be published: cap it.
    if (this.cache.size >= 1024) this.cache.clear();
    this.cache.set(routingKey, result);
    return result;
  }

  list(): string[] {
    return [...this.patterns];
  }
}
