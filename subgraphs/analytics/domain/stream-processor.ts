// The stream processor's pure core: 5-minute tumbling windows per member on event time, a watermark
// (newest event time or processing-time tick, minus the allowed lateness) that closes them, late
// events set aside, engagement and risk per closed window, and the CEP rules. No I/O, no clock: the
// same inputs in the same order always give the same outputs, with ids derived from window keys.
import type { AnyNewEvent } from '../../../messaging/events/envelope';
import TinyQueue from 'tinyqueue';
import { deterministicUuid } from '../../../platform/ids';
import { emptyRuleState, expire, NEVER, observe, type CepEvent, type Facts, type RuleMatch, type RuleState } from './cep-engine';
import { ruleEventTypes, type CepRule, type RuleAction } from './cep-rules';
import { emptyCounts, engagementScore, riskAssessment, totalOf, type WindowCounts } from './engagement';

export const WINDOW_MS = 5 * 60_000;
/** Distinct places remembered per member (oldest forgotten first) for "login from a new location". */
const KNOWN_LOCATIONS = 20;

/** The input event types and the window counter each one feeds. */
export const activityCounters = {
  'member.login': 'logins',
  'member.profile.viewed': 'profileViews',
  'course.started': 'coursesStarted',
  'course.completed': 'coursesCompleted',
  'support.ticket.opened': 'supportTickets',
  'payment.completed': 'paymentsCompleted',
  'payment.failed': 'paymentsFailed',
  'member.profile.updated': 'profileUpdates',
} as const satisfies Record<string, keyof WindowCounts>;

export type ActivityInputType = keyof typeof activityCounters;

export type ProcessorInput =
  | {
      readonly kind: 'activity';
      readonly id: string;
      readonly type: ActivityInputType;
      readonly memberId: string;
      /** Event time, ms since the epoch. */
      readonly time: number;
      /** Position in the store: inputs at or below the processed position are ignored (redelivery). */
      readonly position: number;
      /** Scalar payload fields, for the rules' conditions. */
      readonly facts: Facts;
    }
  | { readonly kind: 'tick'; readonly id: string; readonly at: number; readonly position: number };

/** An event to append, with the member stream it belongs to and the input that caused it. */
export interface ProcessorEmit {
  readonly memberId: string;
  readonly causeId: string;
  readonly event: AnyNewEvent & { readonly id: string; readonly occurredAt: string };
}

/** An event that came after its window closed: counted and kept aside, not aggregated. */
export interface LateRecord {
  readonly eventId: string;
  readonly memberId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly windowStart: string;
  readonly watermark: string;
}

/** Where `process` puts what it produced; reusable (call `clear`) to spare allocations. */
export class ProcessorSink {
  emits: ProcessorEmit[] = [];
  late: LateRecord[] = [];
  clear(): void {
    this.emits = [];
    this.late = [];
  }
}

interface WindowAgg {
  readonly memberId: string;
  readonly start: number;
  counts: WindowCounts;
  paidCents: number;
  newLocationLogins: number;
}

interface MemberState {
  engagement: number | null;
  locations: string[];
  rewardPoints: number;
  rules: Record<string, RuleState>;
}

/** One member's part of a checkpoint. */
export interface MemberSnapshot extends MemberState {
  readonly id: string;
  readonly windows: WindowAgg[];
}

/** The processor's state apart from members: small, saved with every checkpoint. */
export interface ProcessorHeader {
  readonly position: number;
  readonly maxEventTime: number;
  readonly lastTick: number;
  readonly lateEvents: number;
  readonly processed: number;
}

export interface ProcessorStats extends ProcessorHeader {
  readonly watermark: number;
  readonly allowedLatenessMs: number;
  readonly openWindows: number;
  readonly members: number;
}

/** Event time up to which windows are closed: the latest event time or tick, less the allowed lateness. */
export function watermarkOf(maxEventTime: number, lastTick: number, allowedLatenessMs: number): number {
  return Math.max(maxEventTime, lastTick) - allowedLatenessMs;
}

interface Deadline {
  readonly at: number;
  readonly memberId: string;
  readonly ruleId: string;
}

/** Armed absence patterns, earliest deadline first (compared, not subtracted: deadlines may be infinite). */
function deadlineQueue(): TinyQueue<Deadline> {
  return new TinyQueue<Deadline>([], (a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** Window bounds repeat for every member: format each instant once. */
const isoCache = new Map<number, string>();
function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size > 10_000) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
}

export interface StreamProcessorOptions {
  readonly allowedLatenessMs: number;
  readonly rules: readonly CepRule[];
}

export class StreamProcessor {
  private position = 0;
  private maxEventTime = NEVER;
  private lastTick = NEVER;
  private lateEvents = 0;
  private processed = 0;
  private readonly members = new Map<string, MemberState>();
  /** Open windows by end time (few distinct ends), then by member. */
  private readonly windows = new Map<number, Map<string, WindowAgg>>();
  private ends: number[] = [];
  /** Armed absence patterns by deadline; stale entries are skipped when popped. */
  private deadlines = deadlineQueue();
  private readonly rulesByType = new Map<string, CepRule[]>();

  constructor(private readonly options: StreamProcessorOptions) {
    for (const rule of options.rules) {
      for (const type of ruleEventTypes([rule])) {
        const list = this.rulesByType.get(type) ?? [];
        list.push(rule);
        this.rulesByType.set(type, list);
      }
    }
  }

  get watermark(): number {
    return watermarkOf(this.maxEventTime, this.lastTick, this.options.allowedLatenessMs);
  }

  process(input: ProcessorInput, sink: ProcessorSink): void {
    if (input.position <= this.position) return;
    this.position = input.position;
    this.processed++;
    if (input.kind === 'tick') {
      if (input.at > this.lastTick) this.lastTick = input.at;
      this.advance(input.id, sink);
      return;
    }
    const start = Math.floor(input.time / WINDOW_MS) * WINDOW_MS;
    const end = start + WINDOW_MS;
    if (end <= this.watermark) {
      this.lateEvents++;
      sink.late.push({
        eventId: input.id,
        memberId: input.memberId,
        type: input.type,
        occurredAt: iso(input.time),
        windowStart: iso(start),
        watermark: iso(this.watermark),
      });
      return;
    }
    const member = this.member(input.memberId);
    const agg = this.window(input.memberId, start, end);
    agg.counts[activityCounters[input.type]]++;
    let facts = input.facts;
    if (input.type === 'payment.completed' && typeof facts.amountCents === 'number') agg.paidCents += facts.amountCents;
    if (input.type === 'member.login') {
      const location = typeof facts.location === 'string' ? facts.location : null;
      // A member's first place is its baseline, not a "new" one.
      const isNew = location !== null && member.locations.length > 0 && !member.locations.includes(location);
      if (isNew) agg.newLocationLogins++;
      if (location !== null && !member.locations.includes(location)) {
        member.locations.push(location);
        if (member.locations.length > KNOWN_LOCATIONS) member.locations.shift();
      }
      facts = { ...facts, newLocation: isNew };
    }
    this.observe(input.memberId, member, { id: input.id, type: input.type, time: input.time, facts }, input.id, sink);
    if (input.time > this.maxEventTime) {
      this.maxEventTime = input.time;
      this.advance(input.id, sink);
    }
  }

  /** Earliest event time at which something (a window, an absence) would close, or null. */
  nextDeadline(): number | null {
    this.dropStaleDeadlines();
    const windowEnd = this.ends[0];
    const absence = this.deadlines.peek()?.at;
    if (windowEnd === undefined) return absence ?? null;
    return absence === undefined ? windowEnd : Math.min(windowEnd, absence);
  }

  get allowedLatenessMs(): number {
    return this.options.allowedLatenessMs;
  }

  stats(): ProcessorStats {
    let openWindows = 0;
    for (const byMember of this.windows.values()) openWindows += byMember.size;
    return { ...this.header(), watermark: this.watermark, allowedLatenessMs: this.options.allowedLatenessMs, openWindows, members: this.members.size };
  }

  header(): ProcessorHeader {
    return { position: this.position, maxEventTime: this.maxEventTime, lastTick: this.lastTick, lateEvents: this.lateEvents, processed: this.processed };
  }

  /** Every member's state and open windows, as JSON-safe data (deep copies). */
  memberSnapshots(): MemberSnapshot[] {
    const windowsOf = new Map<string, WindowAgg[]>();
    for (const byMember of this.windows.values()) {
      for (const agg of byMember.values()) {
        const list = windowsOf.get(agg.memberId) ?? [];
        list.push(agg);
        windowsOf.set(agg.memberId, list);
      }
    }
    return [...this.members].map(([id, m]) => structuredClone({ id, ...m, windows: windowsOf.get(id) ?? [] }));
  }

  /** Replace the state by a checkpoint's (on start). */
  restore(header: ProcessorHeader, members: readonly MemberSnapshot[]): void {
    this.position = header.position;
    this.maxEventTime = header.maxEventTime;
    this.lastTick = header.lastTick;
    this.lateEvents = header.lateEvents;
    this.processed = header.processed;
    this.members.clear();
    this.windows.clear();
    this.ends = [];
    this.deadlines = deadlineQueue();
    for (const snapshot of members) {
      const { id, windows, ...state } = structuredClone(snapshot);
      this.members.set(id, state);
      for (const agg of windows) {
        const end = agg.start + WINDOW_MS;
        this.windowsEnding(end).set(id, agg);
      }
      for (const [ruleId, rule] of Object.entries(state.rules)) {
        if (rule.pending) this.deadlines.push({ at: rule.pending.deadline, memberId: id, ruleId });
      }
    }
  }

  private member(memberId: string): MemberState {
    let member = this.members.get(memberId);
    if (!member) {
      member = { engagement: null, locations: [], rewardPoints: 0, rules: {} };
      this.members.set(memberId, member);
    }
    return member;
  }

  private windowsEnding(end: number): Map<string, WindowAgg> {
    let byMember = this.windows.get(end);
    if (!byMember) {
      byMember = new Map();
      this.windows.set(end, byMember);
      let i = this.ends.length;
      while (i > 0 && (this.ends[i - 1] as number) > end) i--;
      this.ends.splice(i, 0, end);
    }
    return byMember;
  }

  private window(memberId: string, start: number, end: number): WindowAgg {
    const byMember = this.windowsEnding(end);
    let agg = byMember.get(memberId);
    if (!agg) {
      agg = { memberId, start, counts: emptyCounts(), paidCents: 0, newLocationLogins: 0 };
      byMember.set(memberId, agg);
    }
    return agg;
  }

  private observe(memberId: string, member: MemberState, event: CepEvent, causeId: string, sink: ProcessorSink): void {
    const rules = this.rulesByType.get(event.type);
    if (!rules) return;
    for (const rule of rules) {
      let state = member.rules[rule.id];
      if (!state) state = member.rules[rule.id] = emptyRuleState();
      const wasPending = state.pending;
      const match = observe(rule, state, event);
      if (state.pending && state.pending !== wasPending) this.deadlines.push({ at: state.pending.deadline, memberId, ruleId: rule.id });
      if (match) this.matched(memberId, member, match, causeId, sink);
    }
  }

  /** Close every window and decide every absence the watermark has passed, in time order. */
  private advance(causeId: string, sink: ProcessorSink): void {
    const watermark = this.watermark;
    for (;;) {
      const end = this.ends[0];
      this.dropStaleDeadlines();
      const deadline = this.deadlines.peek();
      const windowDue = end !== undefined && end <= watermark;
      const absenceDue = deadline !== undefined && deadline.at <= watermark;
      if (!windowDue && !absenceDue) return;
      if (windowDue && (!absenceDue || (end as number) <= (deadline as Deadline).at)) {
        this.ends.shift();
        const byMember = this.windows.get(end as number);
        this.windows.delete(end as number);
        for (const agg of byMember?.values() ?? []) this.close(agg, causeId, sink);
      } else {
        const due = this.deadlines.pop() as Deadline;
        const rule = this.options.rules.find((r) => r.id === due.ruleId);
        const member = this.members.get(due.memberId);
        const state = member?.rules[due.ruleId];
        if (!rule || !member || !state) continue;
        const match = expire(rule, state, watermark);
        if (match) this.matched(due.memberId, member, match, causeId, sink);
      }
    }
  }

  private close(agg: WindowAgg, causeId: string, sink: ProcessorSink): void {
    const member = this.member(agg.memberId);
    const end = agg.start + WINDOW_MS;
    // Window outputs are keyed by member and window start: readable, and no hashing on the hot path.
    const key = `${agg.memberId}:${agg.start}`;
    const summaryId = `analytics:summary:${key}`;
    const engagementId = `analytics:engagement:${key}`;
    const riskId = `analytics:risk:${key}`;
    const window = { windowStart: iso(agg.start), windowEnd: iso(end) };
    const occurredAt = iso(end);
    const previous = member.engagement;
    const engagement = engagementScore(agg.counts, previous);
    const risk = riskAssessment(agg.counts, agg.newLocationLogins, { score: engagement.score, previous });
    member.engagement = engagement.score;
    const memberId = agg.memberId;
    sink.emits.push(
      {
        memberId,
        causeId,
        event: {
          id: summaryId,
          type: 'member.activity.summary',
          occurredAt,
          payload: { memberId, ...window, counts: { ...agg.counts }, total: totalOf(agg.counts), paidCents: agg.paidCents },
        },
      },
      {
        memberId,
        causeId,
        event: {
          id: engagementId,
          type: 'member.engagement.score',
          occurredAt,
          payload: { memberId, ...window, score: engagement.score, windowScore: engagement.windowScore, previousScore: previous, level: engagement.level },
        },
      },
      {
        memberId,
        causeId,
        event: {
          id: riskId,
          type: 'member.risk.assessment',
          occurredAt,
          payload: { memberId, ...window, score: risk.score, level: risk.level, factors: risk.factors },
        },
      },
    );
    // The derived events are events too: rules may look at scores and risk.
    this.observe(memberId, member, { id: engagementId, type: 'member.engagement.score', time: end, facts: { score: engagement.score, level: engagement.level } }, causeId, sink);
    this.observe(memberId, member, { id: riskId, type: 'member.risk.assessment', time: end, facts: { score: risk.score, level: risk.level } }, causeId, sink);
  }

  private matched(memberId: string, member: MemberState, match: RuleMatch, causeId: string, sink: ProcessorSink): void {
    const { rule } = match;
    const patternId = deterministicUuid(`analytics:pattern:${rule.id}:${memberId}:${match.time}:${match.evidence.join(',')}`);
    const occurredAt = iso(match.time);
    sink.emits.push({
      memberId,
      causeId,
      event: {
        id: patternId,
        type: 'pattern.detected',
        occurredAt,
        payload: { patternId, ruleId: rule.id, pattern: rule.pattern, memberId, detectedAt: occurredAt, evidence: [...match.evidence], action: rule.action.type },
      },
    });
    sink.emits.push({ memberId, causeId, event: this.actionEvent(rule.action, memberId, member, patternId, occurredAt) });
  }

  private actionEvent(action: RuleAction, memberId: string, member: MemberState, patternId: string, occurredAt: string): ProcessorEmit['event'] {
    const id = deterministicUuid(`analytics:action:${patternId}`);
    switch (action.type) {
      case 'retention.campaign.started':
        return { id, occurredAt, type: action.type, payload: { memberId, patternId, campaign: action.campaign } };
      case 'vip.upgrade.offered':
        return { id, occurredAt, type: action.type, payload: { memberId, patternId, offer: action.offer } };
      case 'security.alert.raised':
        return { id, occurredAt, type: action.type, payload: { memberId, patternId, severity: action.severity, reason: action.reason } };
      case 'reward.points.granted':
        member.rewardPoints += action.points;
        return { id, occurredAt, type: action.type, payload: { memberId, patternId, points: action.points, balance: member.rewardPoints, reason: action.reason } };
    }
  }

  private dropStaleDeadlines(): void {
    for (;;) {
      const top = this.deadlines.peek();
      if (!top) return;
      const pending = this.members.get(top.memberId)?.rules[top.ruleId]?.pending;
      if (pending && pending.deadline === top.at) return;
      this.deadlines.pop();
    }
  }
}
