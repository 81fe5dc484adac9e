// Turns a type-graphql schema into a Federation 2 subgraph schema: type-graphql prints the SDL
// with its @key/@shareable directives, @apollo/subgraph adds _entities/_service.
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { isEnumType, parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';

const federationLink = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible"])`;

export interface FederatedSchemaOptions extends Omit<BuildSchemaOptions, 'skipCheck'> {
  /** `__resolveReference` per entity type name. */
  readonly referenceResolvers?: Record<string, { __resolveReference: (...args: never[]) => unknown }>;
}

export async function buildFederatedSchema(options: FederatedSchemaOptions): Promise<GraphQLSchema> {
  const { referenceResolvers = {}, ...buildOptions } = options;
  const schema = await buildSchema({ ...buildOptions, skipCheck: true });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  // The SDL round trip loses enums' internal values (MemberTier.BASIC is 'basic' inside): map them back.
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isEnumType(type) || type.name.startsWith('__')) continue;
    resolvers[type.name] = Object.fromEntries(type.getValues().map((v) => [v.name, v.value]));
  }
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${federationLink}\n${printSchemaWithDirectives(schema)}`),
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
}
