// Pure pattern matching for one member and one rule: sequence, all-of and absence patterns with
// `within` bounds and a cooldown. State is plain JSON so the stream processor can checkpoint it.
import type { CepRule, Condition, EventMatcher, FactValue } from './cep-rules';

export type Facts = Readonly<Record<string, FactValue>>;

/** What the engine sees of an event: its id, type, event time and facts. */
export interface CepEvent {
  readonly id: string;
  readonly type: string;
  readonly time: number;
  readonly facts: Facts;
}

interface Buffered {
  readonly id: string;
  readonly time: number;
  /** Indexes of the steps this event matches. */
  readonly steps: readonly number[];
}

export interface RuleState {
  buffer: Buffered[];
  cooldownUntil: number;
  /** An absence pattern waiting for its deadline. */
  pending: { readonly triggerId: string; readonly triggerTime: number; readonly deadline: number } | null;
}

export interface RuleMatch {
  readonly rule: CepRule;
  /** Event time of the match: the completing event's, or the absence deadline. */
  readonly time: number;
  readonly evidence: readonly string[];
}

/** Earliest representable instant: "never" that survives JSON (unlike -Infinity). */
export const NEVER = -8.64e15;

export function emptyRuleState(): RuleState {
  return { buffer: [], cooldownUntil: NEVER, pending: null };
}

function holds(condition: Condition, facts: Facts): boolean {
  const actual = facts[condition.field];
  if (actual === undefined) return false;
  switch (condition.op) {
    case 'eq':
      return actual === condition.value;
    case 'neq':
      return actual !== condition.value;
    case 'gt':
      return typeof actual === 'number' && typeof condition.value === 'number' && actual > condition.value;
    case 'gte':
      return typeof actual === 'number' && typeof condition.value === 'number' && actual >= condition.value;
    case 'lt':
      return typeof actual === 'number' && typeof condition.value === 'number' && actual < condition.value;
    case 'lte':
      return typeof actual === 'number' && typeof condition.value === 'number' && actual <= condition.value;
  }
}

export function matches(matcher: EventMatcher, event: CepEvent): boolean {
  return matcher.type === event.type && (matcher.where ?? []).every((c) => holds(c, event.facts));
}

/** Greedy in-order subsequence: each step takes its `times` earliest events after the previous step. */
function matchSequence(steps: readonly EventMatcher[], buffer: readonly Buffered[]): string[] | null {
  const ordered = [...buffer].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
  const used: string[] = [];
  let i = 0;
  for (let step = 0; step < steps.length; step++) {
    let need = steps[step]?.times ?? 1;
    while (need > 0 && i < ordered.length) {
      const entry = ordered[i++] as Buffered;
      if (entry.steps.includes(step)) {
        used.push(entry.id);
        need--;
      }
    }
    if (need > 0) return null;
  }
  return used;
}

/** Every step has its `times` events, in any order; an event counts for one step only. */
function matchAll(steps: readonly EventMatcher[], buffer: readonly Buffered[]): string[] | null {
  const taken = new Set<string>();
  for (let step = 0; step < steps.length; step++) {
    let need = steps[step]?.times ?? 1;
    for (const entry of buffer) {
      if (need === 0) break;
      if (!taken.has(entry.id) && entry.steps.includes(step)) {
        taken.add(entry.id);
        need--;
      }
    }
    if (need > 0) return null;
  }
  return [...taken];
}

/**
 * Feed one event of the member to one rule; returns a match when the event completes a sequence or
 * all-of pattern. Absence patterns only arm or disarm here: `expire` decides them.
 */
export function observe(rule: CepRule, state: RuleState, event: CepEvent): RuleMatch | null {
  const spec = rule.spec;
  if (spec.kind === 'absence') {
    const pending = state.pending;
    if (pending && event.time > pending.triggerTime && event.time <= pending.deadline && spec.absent.some((m) => matches(m, event))) {
      state.pending = null;
      return null;
    }
    if (!pending && event.time >= state.cooldownUntil && matches(spec.trigger, event)) {
      state.pending = { triggerId: event.id, triggerTime: event.time, deadline: event.time + rule.withinMs };
    }
    return null;
  }
  if (event.time < state.cooldownUntil) return null;
  const steps: number[] = [];
  spec.steps.forEach((m, i) => {
    if (matches(m, event)) steps.push(i);
  });
  if (steps.length === 0) return null;
  const horizon = event.time - rule.withinMs;
  state.buffer = state.buffer.filter((b) => b.time >= horizon && b.time <= event.time + rule.withinMs);
  state.buffer.push({ id: event.id, time: event.time, steps });
  // Bounded: a burst of one step's events cannot grow the state without limit.
  const cap = spec.steps.reduce((n, s) => n + (s.times ?? 1), 0) * 4;
  if (state.buffer.length > cap) state.buffer.splice(0, state.buffer.length - cap);
  const window = state.buffer.filter((b) => Math.abs(b.time - event.time) <= rule.withinMs);
  const evidence = spec.kind === 'sequence' ? matchSequence(spec.steps, window) : matchAll(spec.steps, window);
  if (!evidence) return null;
  state.buffer = [];
  state.cooldownUntil = event.time + rule.cooldownMs;
  return { rule, time: event.time, evidence };
}

/** Decide an armed absence pattern once the watermark passed its deadline. */
export function expire(rule: CepRule, state: RuleState, watermark: number): RuleMatch | null {
  const pending = state.pending;
  if (!pending || watermark < pending.deadline) return null;
  state.pending = null;
  state.cooldownUntil = pending.deadline + rule.cooldownMs;
  return { rule, time: pending.deadline, evidence: [pending.triggerId] };
}
