// What a new supergraph changes in the API clients see, compared with the committed one, by
// @graphql-inspector/core: breaking changes (a client's query may stop working), dangerous ones (it
// may behave differently: a new enum value, a changed default) and safe ones. `npm run compose`
// prints them so a reviewer sees what a schema change does to clients.
import { Supergraph } from '@apollo/federation-internals';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';

/** The API schema of a supergraph: what the gateway serves, without the join/link machinery. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

export interface ApiChanges {
  readonly breaking: readonly Change[];
  readonly dangerous: readonly Change[];
  readonly safe: readonly Change[];
}

export async function apiChanges(beforeSupergraph: string, afterSupergraph: string): Promise<ApiChanges> {
  const changes = await diff(apiSchemaOf(beforeSupergraph), apiSchemaOf(afterSupergraph));
  const of = (level: CriticalityLevel) => changes.filter((c) => c.criticality.level === level);
  return { breaking: of(CriticalityLevel.Breaking), dangerous: of(CriticalityLevel.Dangerous), safe: of(CriticalityLevel.NonBreaking) };
}

/** A report for the terminal: counts, then each breaking and dangerous change with where it is. */
export function formatApiChanges(changes: ApiChanges): string[] {
  const { breaking, dangerous, safe } = changes;
  if (breaking.length + dangerous.length + safe.length === 0) return ['API schema unchanged.'];
  const line = (c: Change) => `  - ${c.message}${c.path ? ` (${c.path})` : ''}${c.criticality.reason ? `: ${c.criticality.reason}` : ''}`;
  return [
    `API schema changes against the committed supergraph.graphql: ${breaking.length} breaking, ${dangerous.length} dangerous, ${safe.length} safe.`,
    ...(breaking.length > 0 ? ['BREAKING (a client query may stop working; say how to migrate in README.md "Changelog"):', ...breaking.map(line)] : []),
    ...(dangerous.length > 0 ? ['DANGEROUS (a client may behave differently):', ...dangerous.map(line)] : []),
  ];
}
