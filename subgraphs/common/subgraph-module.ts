// What each subgraph provides to the process that runs it: its schema, plus the background work
// it owns (projections following the store, consumers on the bus), started and stopped with it.
import type { GraphQLSchema } from 'graphql';
import type { SubgraphName } from './subgraph-server';

export interface SubgraphModule {
  readonly name: SubgraphName;
  readonly schema: GraphQLSchema;
  /** Start background work; resolves once in-memory projections have caught up. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A type-graphql container handing out resolver instances built with their dependencies. */
export function resolverContainer(instances: readonly object[]) {
  const byClass = new Map<unknown, object>(instances.map((i) => [i.constructor, i]));
  return {
    get(someClass: unknown): object {
      const instance = byClass.get(someClass);
      if (instance) return instance;
      // Resolvers without dependencies are created on first use.
      const created = new (someClass as new () => object)();
      byClass.set(someClass, created);
      return created;
    },
  };
}
