// What a replay can feed: bus consumers (through their idempotent handler, with the replay flag, so
// they rebuild state and repeat no side effect) and rebuildable projections (a new version, swapped in).
import type { EventType } from '../events/catalog';
import type { ConsumerDefinition } from '../consumers/consumer-definition';
import type { RebuildableProjection } from './projection-versions';

export type ReplayTarget =
  | {
      readonly kind: 'consumer';
      /** The target's name in requests (`crm`): the consumer's name without the queue prefix. */
      readonly name: string;
      readonly handles: readonly EventType[];
      /** The consumer as it runs live (its prefixed name keys its markers and checkpoint). */
      readonly definition: ConsumerDefinition;
    }
  | {
      readonly kind: 'projection';
      readonly name: string;
      readonly handles: readonly EventType[];
      readonly projection: RebuildableProjection;
    };

/** A consumer as a target: `liveName` is the name it consumes under (QUEUE_PREFIX + name). */
export function consumerTarget(definition: ConsumerDefinition, liveName: string = definition.name): ReplayTarget {
  return {
    kind: 'consumer',
    name: definition.name,
    handles: [...definition.handles],
    definition: { ...definition, name: liveName, handle: definition.handle.bind(definition) },
  };
}

export function projectionTarget(projection: RebuildableProjection): ReplayTarget {
  return { kind: 'projection', name: projection.name, handles: [...projection.handles], projection };
}
