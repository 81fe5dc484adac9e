// What a replay is, as stored and as reasoned about: the `replays` document the API writes and the
// worker claims, the target registry, and the pure rules (request validation, progress, throttle).
import type { EventType } from '../events/catalog';
import { isEventType } from '../events/catalog';
import type { ReplayProgressSnapshot, ReplayStatsSnapshot, ReplayTargetProgress } from '../events/catalog/replay';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import { ValidationError } from '../../platform/errors';
import { checkInstant } from '../../platform/instants';

export type ReplayKind = 'replay' | 'rebuild';
export type ReplayStatus = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed';
export type ReplayTargetKind = ReplayTargetProgress['kind'];

export interface ReplayErrorSample {
  readonly target: string;
  readonly eventId: string;
  readonly type: string;
  readonly reason: string;
}

/** One replay run, from request to stats: the hand-over between the API and the worker. */
export interface ReplayDoc {
  readonly id: string;
  readonly kind: ReplayKind;
  readonly status: ReplayStatus;
  /** Range of recordedAt: from inclusive, to exclusive (ISO-8601). */
  readonly from: string;
  readonly to: string;
  readonly types: readonly string[] | null;
  readonly targets: readonly string[];
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly correlationId: string;
  /** Set by the worker that claimed it (a random token per claim). */
  readonly claimedBy: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly cancelRequested: boolean;
  /** Distinct events in the range that some target handles (known once counted). */
  readonly events: number;
  readonly progress: ReplayProgressSnapshot;
  readonly stats: ReplayStatsSnapshot | null;
  readonly error: string | null;
  /** The first few failures, for the admin; all of them are in the targets' dead-letter queues. */
  readonly errorSamples: readonly ReplayErrorSample[];
  /** Global position of the replay.started event (where progress subscriptions begin). */
  readonly startedPosition: number | null;
  /** Renewed by the worker running it; a running replay whose heartbeat stops is failed by another worker. */
  readonly heartbeatAt?: string | null;
}

/** A target as the workers announce it: what the API validates `targets` against. */
export interface ReplayTargetDoc {
  readonly id: string;
  readonly kind: ReplayTargetKind;
  readonly handles: readonly string[];
  readonly registeredAt: string;
}

export const REPLAYS_COLLECTION = 'replays';
export const REPLAY_TARGETS_COLLECTION = 'replay_targets';
export const MAX_ERROR_SAMPLES = 20;

export function replaysCollection(documents: DocumentStore): DocumentCollection<ReplayDoc> {
  return documents.collection<ReplayDoc>(REPLAYS_COLLECTION, { indexes: ['status', 'requestedAt'] });
}

export function replayTargetsCollection(documents: DocumentStore): DocumentCollection<ReplayTargetDoc> {
  return documents.collection<ReplayTargetDoc>(REPLAY_TARGETS_COLLECTION);
}

export const isFinished = (status: ReplayStatus): boolean => status === 'completed' || status === 'cancelled' || status === 'failed';

export function emptyProgress(targets: readonly { name: string; kind: ReplayTargetKind }[] = []): ReplayProgressSnapshot {
  return {
    processed: 0,
    total: 0,
    errors: 0,
    ratePerSecond: 0,
    estimatedSecondsLeft: null,
    targets: targets.map((t) => ({ name: t.name, kind: t.kind, total: 0, processed: 0, errors: 0, deadLetterQueue: null })),
  };
}

/** Totals, rate and time left from per-target counts and the time elapsed since the start. */
export function progressOf(targets: readonly ReplayTargetProgress[], elapsedMs: number): ReplayProgressSnapshot {
  const processed = targets.reduce((n, t) => n + t.processed, 0);
  const total = targets.reduce((n, t) => n + t.total, 0);
  const errors = targets.reduce((n, t) => n + t.errors, 0);
  const ratePerSecond = elapsedMs > 0 ? Math.round((processed / elapsedMs) * 1000 * 10) / 10 : 0;
  const left = Math.max(0, total - processed);
  const estimatedSecondsLeft = left === 0 ? 0 : ratePerSecond > 0 ? Math.round((left / ratePerSecond) * 10) / 10 : null;
  return { processed, total, errors, ratePerSecond, estimatedSecondsLeft, targets: targets.map((t) => ({ ...t })) };
}

export interface ReplayRequestInput {
  readonly from: Date;
  readonly to: Date;
  readonly types?: readonly string[] | null;
  readonly targets: readonly string[];
}

export interface ValidReplayRequest {
  readonly kind: ReplayKind;
  readonly from: string;
  readonly to: string;
  readonly types: readonly EventType[] | null;
  readonly targets: readonly string[];
}

/**
 * Check a request against the clock and the known targets; each refusal names its field. A
 * projection target is rebuilt from the whole history (so `from` must reach the first event) and
 * cannot share a run with consumers, which get exactly the range.
 */
export function validateReplayRequest(
  input: ReplayRequestInput,
  known: readonly Pick<ReplayTargetDoc, 'id' | 'kind' | 'handles'>[],
  now: Date,
  firstEventAt: string | null,
): ValidReplayRequest {
  // Both within the plausible range (2000 on): the same check as every client-given time.
  checkInstant(input.from, 'from');
  checkInstant(input.to, 'to');
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (from >= to) throw new ValidationError('from must be before to.', { field: 'from' });
  if (to > now.getTime()) {
    throw new ValidationError(`to (${input.to.toISOString()}) is in the future: a replay reads events already stored (now is ${now.toISOString()}).`, {
      field: 'to',
    });
  }
  const targets = [...new Set(input.targets)];
  if (targets.length === 0) throw new ValidationError('targets must name at least one consumer or projection.', { field: 'targets' });
  const byName = new Map(known.map((t) => [t.id, t]));
  const unknown = targets.filter((t) => !byName.has(t));
  if (unknown.length > 0) {
    const names = known.map((t) => t.id).sort();
    throw new ValidationError(
      `Unknown replay target${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: choose from ${names.length > 0 ? names.join(', ') : '(none registered: are the workers running?)'}.`,
      { field: 'targets', unknown },
    );
  }
  let types: EventType[] | null = null;
  if (input.types && input.types.length === 0) {
    throw new ValidationError('types must name at least one event type; leave it out to replay every type the targets handle.', { field: 'types' });
  }
  if (input.types && input.types.length > 0) {
    const bad = input.types.filter((t) => !isEventType(t));
    if (bad.length > 0) throw new ValidationError(`Unknown event type${bad.length > 1 ? 's' : ''} ${bad.join(', ')}.`, { field: 'types', unknown: bad });
    types = [...new Set(input.types)] as EventType[];
  }
  const kinds = new Set(targets.map((t) => byName.get(t)?.kind));
  if (kinds.has('projection')) {
    if (kinds.size > 1) {
      throw new ValidationError('A replay rebuilds projections or feeds consumers, not both: start one of each.', { field: 'targets' });
    }
    if (types) throw new ValidationError('A projection is rebuilt from all its event types: leave types out.', { field: 'types' });
    if (firstEventAt !== null && from > Date.parse(firstEventAt)) {
      throw new ValidationError(
        `A projection is rebuilt from the whole history: from must be at or before the first event (${firstEventAt}); or use rebuildProjection.`,
        { field: 'from' },
      );
    }
  } else if (types) {
    const handled = new Set(targets.flatMap((t) => byName.get(t)?.handles ?? []));
    if (!types.some((t) => handled.has(t))) {
      throw new ValidationError(`None of the targets handles any of these types: nothing would be replayed.`, { field: 'types' });
    }
  }
  return { kind: kinds.has('projection') ? 'rebuild' : 'replay', from: input.from.toISOString(), to: input.to.toISOString(), types, targets };
}

/**
 * At most one report per interval of the injected clock, so a fast replay does not flood clients;
 * `force` (start, end) always reports.
 */
export class ProgressThrottle {
  private last = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => Date,
  ) {}

  /** True when a report is due now (and records it as made). */
  due(force = false): boolean {
    const at = this.now().getTime();
    if (!force && at - this.last < this.intervalMs) return false;
    this.last = at;
    return true;
  }
}
