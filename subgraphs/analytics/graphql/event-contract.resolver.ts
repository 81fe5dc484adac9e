// Lists the schema registry.
import { Query, Resolver } from 'type-graphql';
import { listEventTypes } from '../../../messaging/events/registry';
import { EventContract } from './event-contract.type';

@Resolver(() => EventContract)
export class EventContractResolver {
  @Query(() => [EventContract], { description: 'Every event type the system knows, with its payload schema.' })
  eventContracts(): EventContract[] {
    return listEventTypes().map((t) =>
      Object.assign(new EventContract(), { ...t, readableVersions: [...t.readableVersions] }),
    );
  }
}
