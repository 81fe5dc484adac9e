// `replayProgress(id)`: a replay's lifecycle events (started, throttled progress, then completed,
// cancelled or failed with the final stats), fed by the live event feed like memberUpdated. Without
// a resume cursor it starts at the replay's start, so a client subscribing right after startReplay
// misses nothing; it completes after the final update. Admins only.
import type { GraphQLSchema } from 'graphql';
import { Arg, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { formatCursor } from '../../../platform/subscription-protocol';
import type { ReplayService } from '../../../messaging/replay/replay-service';
import { IllegalStateError, NotFoundError } from '../../../platform/errors';
import { requireAdmin } from '../../common/context';
import { endAfter, subscribeToEntityEvents, updateFieldsOf, type SubscriptionContext } from '../../common/subscription-payload';
import { toReplay, toStats, toTargetStats } from './replay.mapper';
import { Replay, ReplayProgress, replayProgressEventTypes, ReplayStatus } from './replay.type';

export { replayProgressEventTypes };

type ReplayEvent = Extract<AnyEventEnvelope, { type: (typeof replayProgressEventTypes)[number] }>;

function isReplayEvent(event: AnyEventEnvelope): event is ReplayEvent {
  return (replayProgressEventTypes as readonly string[]).includes(event.type);
}

const isFinal = (event: ReplayEvent): boolean => event.type === 'replay.completed' || event.type === 'replay.cancelled' || event.type === 'replay.failed';

/** `subscribe` runs without a resolver instance: the module registers its service per schema. */
const servicesBySchema = new WeakMap<GraphQLSchema, ReplayService>();

export function registerReplayProgressSource(schema: GraphQLSchema, service: ReplayService): void {
  servicesBySchema.set(schema, service);
}

function statusOf(event: ReplayEvent): ReplayStatus {
  switch (event.type) {
    case 'replay.started':
    case 'replay.progressed':
      return ReplayStatus.RUNNING;
    case 'replay.completed':
      return ReplayStatus.COMPLETED;
    case 'replay.cancelled':
      return ReplayStatus.CANCELLED;
    case 'replay.failed':
      return ReplayStatus.FAILED;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

@Resolver(() => ReplayProgress)
export class ReplayProgressResolver {
  constructor(private readonly replays: ReplayService) {}

  @Subscription(() => ReplayProgress, {
    description:
      "A replay's progress (processed, total, rate, time left, errors; at most a few updates a second) from its start (or after `extensions.cursor`), then the final stats; completes after the final update. Admins only.",
    subscribe: async ({ args, context, info }) => {
      const ctx = context as SubscriptionContext;
      requireAdmin(ctx);
      const id = String((args as { id: string }).id);
      const service = servicesBySchema.get(info.schema);
      const sources = ctx.subscription?.sources;
      // The head first: whatever the replay appends after it reaches this subscription.
      const head = sources ? await sources.store.headPosition() : 0;
      const doc = await service?.get(id);
      if (!doc) throw new NotFoundError(`No replay with id ${id}.`, { id });
      if (doc.startedPosition === null && (doc.status === 'cancelled' || doc.status === 'failed')) {
        const status = doc.status.toUpperCase(); // as ReplayStatus names it
        throw new IllegalStateError(`Replay ${id} was ${status} before it started: there is no progress to watch.`, { id, status });
      }
      const subscription = ctx.subscription;
      const start = doc.startedPosition !== null ? doc.startedPosition - 1 : head;
      const withStart: SubscriptionContext =
        subscription && (subscription.cursor === undefined || subscription.cursor === null)
          ? { ...ctx, subscription: { ...subscription, cursor: formatCursor(start) } }
          : ctx;
      return endAfter(
        subscribeToEntityEvents(withStart, replayProgressEventTypes, (event) => isReplayEvent(event) && event.payload.replayId === id, {
          field: 'replayId',
          value: id,
        }),
        (event) => isReplayEvent(event) && isFinal(event),
      );
    },
  })
  replayProgress(@Root() event: AnyEventEnvelope, @Arg('id', () => ID, { description: 'The replay to watch.' }) _id: string): ReplayProgress {
    if (!isReplayEvent(event)) throw new Error(`replayProgress got an unexpected ${event.type} event`);
    const progress = event.type === 'replay.started' || event.type === 'replay.progressed' ? event.payload.progress : event.payload.stats;
    const stats = event.type === 'replay.started' || event.type === 'replay.progressed' ? null : event.payload.stats;
    return Object.assign(new ReplayProgress(), {
      ...updateFieldsOf(event),
      replayId: event.payload.replayId,
      status: statusOf(event),
      processed: progress.processed,
      total: progress.total,
      ratePerSecond: progress.ratePerSecond,
      estimatedSecondsLeft: progress.estimatedSecondsLeft,
      errors: progress.errors,
      targets: progress.targets.map(toTargetStats),
      stats: toStats(stats),
      final: isFinal(event),
    });
  }

  @FieldResolver(() => Replay)
  async replay(@Root() update: ReplayProgress): Promise<Replay> {
    const doc = await this.replays.get(update.replayId);
    if (!doc) throw new NotFoundError(`No replay with id ${update.replayId}.`, { id: update.replayId });
    return toReplay(doc);
  }
}
