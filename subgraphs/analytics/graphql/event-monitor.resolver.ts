// `eventMonitor`: the backbone's health for admins (the same figures feed /metrics).
import { Ctx, Query, Resolver } from 'type-graphql';
import type { Backends } from '../../../messaging/backends';
import { eventMonitorSnapshot } from '../../../messaging/monitor/event-monitor';
import { requireAdmin, type SubgraphContext } from '../../common/context';
import { EventMonitor } from './event-monitor.type';

@Resolver(() => EventMonitor)
export class EventMonitorResolver {
  constructor(private readonly backends: Pick<Backends, 'store' | 'bus' | 'documents' | 'clock'>) {}

  @Query(() => EventMonitor, { description: 'Admins: consumer lag, dead letters and traffic per event type.' })
  async eventMonitor(@Ctx() ctx: SubgraphContext): Promise<EventMonitor> {
    requireAdmin(ctx);
    const snapshot = await eventMonitorSnapshot(this.backends);
    return Object.assign(new EventMonitor(), {
      ...snapshot,
      takenAt: new Date(snapshot.takenAt),
      consumers: snapshot.consumers.map((c) => ({ ...c, id: c.name, lastEventAt: c.lastEventAt ? new Date(c.lastEventAt) : null })),
      types: snapshot.types.map((t) => ({ ...t, id: t.type })),
    });
  }
}
