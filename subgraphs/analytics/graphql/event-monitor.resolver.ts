// `eventMonitor`: the backbone's health for admins (the same figures feed /metrics). Consumers are
// shown by the names the rest of the API uses (`crm`, as `startReplay` takes them); the queue they
// consume from, with the deployment's QUEUE_PREFIX, is beside it.
import { Ctx, Query, Resolver } from 'type-graphql';
import type { Backends } from '../../../messaging/backends';
import { eventMonitorSnapshot } from '../../../messaging/monitor/event-monitor';
import { requireAdmin, type SubgraphContext } from '../../common/context';
import { EventMonitor } from './event-monitor.type';

@Resolver(() => EventMonitor)
export class EventMonitorResolver {
  constructor(
    private readonly backends: Pick<Backends, 'store' | 'bus' | 'documents' | 'clock'>,
    /** The deployment's QUEUE_PREFIX: a consumer's queue is this plus its name. */
    private readonly queuePrefix: string,
  ) {}

  @Query(() => EventMonitor, { description: 'Admins: consumer lag, dead letters and traffic per event type.' })
  async eventMonitor(@Ctx() ctx: SubgraphContext): Promise<EventMonitor> {
    requireAdmin(ctx);
    const snapshot = await eventMonitorSnapshot(this.backends);
    return Object.assign(new EventMonitor(), {
      ...snapshot,
      takenAt: new Date(snapshot.takenAt),
      consumers: snapshot.consumers.map((c) => {
        const name = c.kind === 'consumer' && c.name.startsWith(this.queuePrefix) ? c.name.slice(this.queuePrefix.length) : c.name;
        return { ...c, id: name, name, queue: c.kind === 'consumer' ? c.name : null, lastEventAt: c.lastEventAt ? new Date(c.lastEventAt) : null };
      }),
      types: snapshot.types.map((t) => ({ ...t, id: t.type })),
    });
  }
}
