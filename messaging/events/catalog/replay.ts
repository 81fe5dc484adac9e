// Event contracts of the replay service: the lifecycle of one replay run (or projection rebuild),
// stored like any event so progress reaches subscribers through the live feed and stays auditable.
import { z } from 'zod';
import { defineEvent } from './define';

const replayId = z.string().min(1).max(64);

/** Per target: deliveries expected and settled, and the ones that failed (dead-lettered). */
const targetProgress = z.object({
  name: z.string().min(1),
  kind: z.enum(['consumer', 'projection']),
  total: z.number().int().nonnegative(),
  processed: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  /** Where this target's failed deliveries were dead-lettered (kept after the replay topic is deleted). */
  deadLetterQueue: z.string().nullable(),
});

/** Where a run stands: deliveries (an event to each target that handles it) settled of all expected. */
const progress = z.object({
  processed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  ratePerSecond: z.number().nonnegative(),
  estimatedSecondsLeft: z.number().nonnegative().nullable(),
  targets: z.array(targetProgress),
});

/** What a finished run reports to the admin. */
const stats = progress.extend({
  /** Distinct events read from the store and published on the replay topic. */
  events: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
});

export type ReplayTargetProgress = z.infer<typeof targetProgress>;
export type ReplayProgressSnapshot = z.infer<typeof progress>;
export type ReplayStatsSnapshot = z.infer<typeof stats>;

export const replayEvents = {
  'replay.started': defineEvent({
    version: 1,
    description: 'A replay (or projection rebuild) began: its range, targets and how many deliveries it will make.',
    schema: z.object({
      replayId,
      kind: z.enum(['replay', 'rebuild']),
      from: z.string().datetime(),
      to: z.string().datetime(),
      types: z.array(z.string()).nullable(),
      targets: z.array(z.string().min(1)).min(1),
      events: z.number().int().nonnegative(),
      progress,
    }),
  }),
  'replay.progressed': defineEvent({
    version: 1,
    description: 'Progress of a running replay (throttled: at most one every few hundred milliseconds per replay).',
    schema: z.object({ replayId, progress }),
  }),
  'replay.completed': defineEvent({
    version: 1,
    description: 'Every target processed every replayed event; the replay topic is deleted. Carries the final stats.',
    schema: z.object({ replayId, stats }),
  }),
  'replay.cancelled': defineEvent({
    version: 1,
    description: 'An admin cancelled the replay; the replay topic is deleted. Carries the stats so far.',
    schema: z.object({ replayId, stats }),
  }),
  'replay.failed': defineEvent({
    version: 1,
    description: 'The replay stopped on an error it could not count per event (store or broker down).',
    schema: z.object({ replayId, reason: z.string().min(1), stats }),
  }),
} as const;
