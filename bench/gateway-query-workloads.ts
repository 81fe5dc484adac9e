// The requests of the gateway-queries benchmark: what a frontend sends, from the cheapest (one
// subgraph) to the frontend's member page (all four subgraphs) and an admin list whose rows need
// entity fields from another subgraph, plus a cheap mutation.
import type { Identity } from '../platform/auth';

export type WorkloadName = 'single' | 'frontend' | 'list' | 'mutation';

export interface Workload {
  readonly name: WorkloadName;
  readonly description: string;
  request(seeded: { readonly focusMember: string; readonly sku: string }): {
    readonly query: string;
    readonly variables: Record<string, unknown>;
    readonly identity: Identity;
  };
}

const admin: Identity = { sub: 'bench-admin', role: 'admin', expiresAt: null };
const member = (id: string): Identity => ({ sub: id, role: 'member', expiresAt: null });

export const workloads: readonly Workload[] = [
  {
    name: 'single',
    description: 'a member reads its profile (member subgraph only)',
    request: ({ focusMember }) => ({
      query: `query Profile($id: ID!) {
  member(id: $id) { id email firstName lastName tier membershipStatus membershipExpiresAt createdAt version }
}`,
      variables: { id: focusMember },
      identity: member(focusMember),
    }),
  },
  {
    name: 'frontend',
    description: 'a member page: profile, certifications, orders with payments, payments, engagement, activity, reward points (all four subgraphs)',
    request: ({ focusMember }) => ({
      query: `query MemberPage($id: ID!) {
  member(id: $id) {
    id firstName lastName tier membershipStatus membershipExpiresAt
    certifications(first: 10) { edges { node { id certType status appliedAt expiryDate type { code name } } } pageInfo { hasNextPage endCursor } }
    orders(first: 10) { edges { node { id status totalCents currency items { sku quantity unitPriceCents } payment { id status amountCents cardBrand } } } pageInfo { hasNextPage endCursor } }
    payments(first: 10) { edges { node { id orderId status amountCents currency cardBrand createdAt } } }
    engagementScore { score level windowEnd }
    riskAssessment { level }
    activitySummary { id total windowEnd }
    activitySummaries(first: 5) { edges { node { id windowStart total logins } } }
    rewardPoints
  }
}`,
      variables: { id: focusMember },
      identity: member(focusMember),
    }),
  },
  {
    name: 'list',
    description: 'an admin pages members (member subgraph) with each row\'s reward points, engagement and risk (analytics) and certifications (certification)',
    request: () => ({
      query: `query Members($first: Int!) {
  members(first: $first) {
    edges { cursor node { id firstName lastName tier rewardPoints engagementScore { score level } riskAssessment { level } certifications(first: 3) { edges { node { id status certType } } } } }
    pageInfo { hasNextPage endCursor }
  }
}`,
      variables: { first: 20 },
      identity: admin,
    }),
  },
  {
    name: 'mutation',
    description: 'an admin sets a product\'s stock (payment subgraph; same answer every time)',
    request: ({ sku }) => ({
      query: `mutation SetStock($sku: ID!, $available: Int!) { setStock(sku: $sku, available: $available) { sku stock } }`,
      variables: { sku, available: 1000 },
      identity: admin,
    }),
  },
];
