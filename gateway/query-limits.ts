// Limits on the shape of client operations, the same over HTTP and WebSocket: tokens (checked while
// parsing, so an oversized document is never built), depth, aliases and directives (validation
// rules from GraphQL Armor). Without them one request of a megabyte could ask the subgraphs for a
// member's orders' members' orders ... or for ten thousand aliased copies of a field, and the gateway
// would plan and run it. A refused operation gets GRAPHQL_PARSE_FAILED (tokens) or
// GRAPHQL_VALIDATION_FAILED (the rest), with a message naming the limit.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';

export interface QueryLimits {
  /** Lexical tokens in a document. */
  readonly maxTokens: number;
  /** Nesting of selections (introspection excepted, so Sandbox and codegen still work). */
  readonly maxDepth: number;
  /** Aliases in a document (`__typename` excepted). */
  readonly maxAliases: number;
  /** Directives in a document. */
  readonly maxDirectives: number;
}

export const defaultQueryLimits: QueryLimits = {
  maxTokens: 5_000,
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 50,
};

/** What graphql-js's parser enforces while parsing. */
export function limitedParseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * The rules throw by default (for GraphQL Armor's own plugins to catch), which graphql-js's
 * `validate` does not: report the refusal as a validation error instead, without the "Syntax
 * Error:" the rules put before their message (the document parsed fine).
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { nodes: error.nodes ?? null }));
    },
  ],
};

/** Validation rules to run after graphql-js's own (`specifiedRules`). */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...asValidationError }),
    maxAliasesRule({ n: limits.maxAliases, allowList: ['__typename'], ...asValidationError }),
    maxDirectivesRule({ n: limits.maxDirectives, ...asValidationError }),
  ];
}
