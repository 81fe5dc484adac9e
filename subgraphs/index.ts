// The four subgraphs, by name: how to build each schema and where each listens by default.
import type { GraphQLSchema } from 'graphql';
import type { SubgraphName } from './common/subgraph-server';
import { buildMemberSchema } from './member/schema';
import { buildPaymentSchema } from './payment/schema';
import { buildCertificationSchema } from './certification/schema';
import { buildAnalyticsSchema } from './analytics/schema';

export interface SubgraphEntry {
  readonly name: SubgraphName;
  readonly defaultPort: number;
  readonly buildSchema: () => Promise<GraphQLSchema>;
}

export const subgraphEntries: readonly SubgraphEntry[] = [
  { name: 'member', defaultPort: 4001, buildSchema: buildMemberSchema },
  { name: 'payment', defaultPort: 4002, buildSchema: buildPaymentSchema },
  { name: 'certification', defaultPort: 4003, buildSchema: buildCertificationSchema },
  { name: 'analytics', defaultPort: 4004, buildSchema: buildAnalyticsSchema },
];
