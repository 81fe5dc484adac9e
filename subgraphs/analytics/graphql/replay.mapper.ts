// From the stored replay document and the replay.* event payloads to the GraphQL types.
import type { ReplayStatsSnapshot, ReplayTargetProgress } from '../../../messaging/events/catalog/replay';
import type { ReplayDoc, ReplayTargetDoc } from '../../../messaging/replay/replay-model';
import { Replay, ReplayKind, ReplayStats, ReplayStatus, ReplayTargetInfo, ReplayTargetKind, ReplayTargetStats } from './replay.type';

const date = (iso: string | null): Date | null => (iso ? new Date(iso) : null);

export function toTargetStats(t: ReplayTargetProgress): ReplayTargetStats {
  return Object.assign(new ReplayTargetStats(), { ...t, kind: t.kind as ReplayTargetKind });
}

export function toStats(stats: ReplayStatsSnapshot | null): ReplayStats | null {
  if (!stats) return null;
  return Object.assign(new ReplayStats(), {
    events: stats.events,
    processed: stats.processed,
    total: stats.total,
    errors: stats.errors,
    durationMs: stats.durationMs,
    ratePerSecond: stats.ratePerSecond,
    targets: stats.targets.map(toTargetStats),
  });
}

export function toReplay(doc: ReplayDoc): Replay {
  return Object.assign(new Replay(), {
    id: doc.id,
    kind: doc.kind as ReplayKind,
    status: doc.status as ReplayStatus,
    from: new Date(doc.from),
    to: new Date(doc.to),
    types: doc.types ? [...doc.types] : null,
    targets: [...doc.targets],
    requestedBy: doc.requestedBy,
    requestedAt: new Date(doc.requestedAt),
    startedAt: date(doc.startedAt),
    finishedAt: date(doc.finishedAt),
    cancelRequested: doc.cancelRequested,
    events: doc.events,
    processed: doc.progress.processed,
    total: doc.progress.total,
    errors: doc.progress.errors,
    ratePerSecond: doc.progress.ratePerSecond,
    estimatedSecondsLeft: doc.progress.estimatedSecondsLeft,
    targetStats: doc.progress.targets.map(toTargetStats),
    stats: toStats(doc.stats),
    error: doc.error,
    sampleErrors: doc.errorSamples.map((s) => ({ target: s.target, eventId: s.eventId, eventType: s.type, reason: s.reason })),
  });
}

export function toTargetInfo(doc: ReplayTargetDoc): ReplayTargetInfo {
  return Object.assign(new ReplayTargetInfo(), { name: doc.id, kind: doc.kind as ReplayTargetKind, handles: [...doc.handles] });
}
