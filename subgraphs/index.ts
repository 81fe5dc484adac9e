// The registry: the product's subgraphs, each described in its own folder (subgraph.ts). Adding a
// subgraph is its folder, its entry here and its name in platform/config.ts `subgraphNames`.
// The descriptions load the type-graphql modules, whose decorators need the metadata polyfill first:
// whoever imports the registry (the worker, a benchmark) gets it here.
import 'reflect-metadata';
import type { SubgraphName } from '../platform/config';
import type { AnySubgraphDefinition, RunningSubgraphWorkers, SubgraphDefinition } from './common/subgraph-definition';
import type { SubgraphModule } from './common/subgraph-module';
import { memberSubgraph } from './member/subgraph';
import { paymentSubgraph } from './payment/subgraph';
import { certificationSubgraph } from './certification/subgraph';
import { analyticsSubgraph } from './analytics/subgraph';

export const subgraphs = {
  member: memberSubgraph,
  payment: paymentSubgraph,
  certification: certificationSubgraph,
  analytics: analyticsSubgraph,
} as const satisfies { readonly [N in SubgraphName]: SubgraphDefinition<N, SubgraphModule, RunningSubgraphWorkers, never> };

export type Subgraphs = typeof subgraphs;

/** The descriptions in start order. */
export const subgraphList: readonly AnySubgraphDefinition[] = Object.values(subgraphs);
