// The API schema's lint rules, run with ESLint's Linter and @graphql-eslint's schema rules over the
// composed supergraph's API schema: naming and casing, descriptions everywhere, Relay connection
// shape, ids for cache identity, and three rules of this API that no plugin has (growing lists are
// connections, lookups by id are nullable, closed sets are enums).
import fs from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import { Linter, type Rule } from 'eslint';
import { Kind, printSchema, type ListTypeNode, type NamedTypeNode, type NonNullTypeNode, type TypeNode } from 'graphql';

/** The API schema clients see: the committed supergraph without the join/link machinery. */
export function apiSchemaSdl(supergraphSdl = fs.readFileSync(path.resolve(__dirname, '..', '..', 'supergraph.graphql'), 'utf8')): string {
  return printSchema(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema());
}

/** Object types without an identity of their own (parts of a parent, figures of a moment): no `id`. */
export const VALUE_TYPES = [
  'PageInfo',
  'AuditChange',
  'OrderItem',
  'CertificationDocumentInfo',
  'EngagementScore',
  'RiskAssessment',
  'ReplayStats',
  'ReplayTargetStats',
  'ReplayError',
  'Ledger',
  'EventMonitor',
  'AnalyticsStatus',
];

/**
 * Lists that cannot grow without bound, so they stay plain lists: catalogues fixed by code, what one
 * deployment runs, parts of one object, and a mutation's answer. Anything else is a connection.
 */
export const BOUNDED_LISTS = [
  'Query.products', // the product catalogue, in code
  'Query.certificationTypes', // the certification catalogue, in code
  'Query.eventContracts', // the event catalogue, in code
  'Query.cepRules', // the CEP rules, in code
  'Query.replayTargets', // the consumers and projections of the deployment
  'EventMonitor.consumers', // the same, with their positions
  'EventMonitor.types', // one per event type of the catalogue
  'Ledger.accounts', // the chart of accounts
  'Order.items', // an order's lines, fixed when it is placed
  'Certification.documents', // at most 20, fixed at the application
  'AuditEntry.changes', // the fields of one change
  'Replay.targetStats', // the targets named in one request
  'Replay.sampleErrors', // the first few, by design
  'ReplayProgress.targets',
  'ReplayStats.targets',
  'ConsumerStatus.deadLetterSample', // the first few of a queue, by design (at most 100)
  'Mutation.trackActivities', // echoes its input (at most 500)
];

/** Free-text fields whose names look like a closed set: an admin's or a system's words, not codes. */
export const FREE_TEXT = ['Certification.reason', 'CertificationTransition.reason', 'Order.failureReason', 'ReplayError.reason', 'EventContract.type', 'EventTypeTraffic.type', 'ParkedEvent.type', 'ParkedEvent.reason', 'DeadLetter.reason'];

function namedOf(type: TypeNode): NamedTypeNode {
  return type.kind === Kind.NAMED_TYPE ? type : namedOf(type.type);
}
function unwrapNonNull(type: TypeNode): NamedTypeNode | ListTypeNode {
  return type.kind === Kind.NON_NULL_TYPE ? (type as NonNullTypeNode).type : type;
}

type GqlNode = { kind: string; name: { value: string }; rawNode(): { type: TypeNode; arguments?: readonly { name: { value: string }; type: TypeNode }[] }; parent: GqlNode };

function schemaOf(context: Rule.RuleContext): import('graphql').GraphQLSchema {
  return (context.sourceCode.parserServices as { schema: import('graphql').GraphQLSchema }).schema;
}

/** Local rules: the API's conventions that @graphql-eslint has no rule for. */
const localRules: Record<string, Rule.RuleModule> = {
  'lists-are-connections': {
    meta: { type: 'problem', docs: { description: 'A list of objects that can grow is a Relay connection; bounded lists are listed in BOUNDED_LISTS.' }, schema: [] },
    create(context) {
      const schema = schemaOf(context);
      return {
        FieldDefinition(node: unknown) {
          const field = node as GqlNode;
          const type = unwrapNonNull(field.rawNode().type);
          if (type.kind !== Kind.LIST_TYPE) return;
          const item = schema.getType(namedOf(type).name.value);
          const owner = `${field.parent.name.value}.${field.name.value}`;
          if (!item || !('getFields' in item) || field.name.value === 'edges' || BOUNDED_LISTS.includes(owner)) return;
          context.report({
            node: node as Rule.Node,
            message: `${owner} is a list of ${item.name}: make it a ${item.name}Connection (subgraphs/common/connection.ts), or add it to BOUNDED_LISTS saying why it cannot grow.`,
          });
        },
      };
    },
  },
  'lookups-are-nullable': {
    meta: { type: 'problem', docs: { description: 'A root field that looks something up by a required id answers null when it is absent.' }, schema: [] },
    create(context) {
      return {
        'ObjectTypeDefinition[name.value=Query] > FieldDefinition'(node: unknown) {
          const field = (node as GqlNode).rawNode();
          const byId = field.arguments?.some((a) => a.name.value === 'id' && a.type.kind === Kind.NON_NULL_TYPE);
          if (byId && field.type.kind === Kind.NON_NULL_TYPE) {
            context.report({ node: node as Rule.Node, message: `Query.${(node as GqlNode).name.value} looks up by id: make its type nullable, so a missing id answers null.` });
          }
        },
      };
    },
  },
  'closed-sets-are-enums': {
    meta: { type: 'problem', docs: { description: 'A field naming a kind, role, level, tier, status, state, pattern, transport, type or reason holds an enum.' }, schema: [] },
    create(context) {
      const closed = /^(kind|role|actorRole|level|tier|status|state|fromState|toState|pattern|transport|type|reason|failureReason)$/;
      const check = (node: unknown) => {
        const field = node as GqlNode;
        const owner = `${field.parent.name.value}.${field.name.value}`;
        if (closed.test(field.name.value) && namedOf(field.rawNode().type).name.value === 'String' && !FREE_TEXT.includes(owner)) {
          context.report({ node: node as Rule.Node, message: `${owner} holds a closed set of values: make it an enum (the same enum wherever the idea appears).` });
        }
      };
      return { FieldDefinition: check, 'InputObjectTypeDefinition > InputValueDefinition': check };
    },
  },
};

export const lintConfig = (sdl: string): Linter.Config[] => [
  {
    files: ['**/*.graphql'],
    languageOptions: { parser: graphqlPlugin.parser, parserOptions: { schemaSdl: sdl } },
    plugins: { '@graphql-eslint': graphqlPlugin as never, api: { rules: localRules } },
    rules: {
      // Naming and casing.
      '@graphql-eslint/naming-convention': [
        'error',
        {
          types: 'PascalCase',
          FieldDefinition: 'camelCase',
          InputValueDefinition: 'camelCase',
          Argument: 'camelCase',
          EnumValueDefinition: 'UPPER_CASE',
          'FieldDefinition[parent.name.value=Query]': { forbiddenPrefixes: ['query', 'get', 'list'], forbiddenSuffixes: ['Query'] },
          'FieldDefinition[parent.name.value=Mutation]': { forbiddenPrefixes: ['mutation'], forbiddenSuffixes: ['Mutation'] },
          'FieldDefinition[parent.name.value=Subscription]': { forbiddenPrefixes: ['subscription', 'on'], forbiddenSuffixes: ['Subscription'] },
          'EnumTypeDefinition,EnumTypeExtension': { forbiddenPrefixes: ['Enum'], forbiddenSuffixes: ['Enum'] },
          'InputObjectTypeDefinition': { requiredPattern: /Input$/ },
        },
      ],
      // (no-typename-prefix is left out: it takes Member.membershipStatus for a "Member" prefix.)
      '@graphql-eslint/no-hashtag-description': 'error',
      // Every type, field, argument, input field and enum value says what it is.
      '@graphql-eslint/require-description': [
        'error',
        {
          types: true,
          rootField: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          ignoredSelectors: ['[type=ObjectTypeDefinition][name.value=/^(Query|Mutation|Subscription)$/]'],
        },
      ],
      '@graphql-eslint/description-style': ['error', { style: 'block' }],
      '@graphql-eslint/require-deprecation-reason': 'error',
      // Connection shape (Relay).
      '@graphql-eslint/relay-connection-types': 'error',
      '@graphql-eslint/relay-edge-types': ['error', { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false }],
      '@graphql-eslint/relay-page-info': 'error',
      '@graphql-eslint/relay-arguments': ['error', { includeBoth: true }],
      // Cache identity: `id: ID!` on every object with an identity.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        { acceptedIdNames: ['id'], acceptedIdTypes: ['ID'], exceptions: { types: ['Query', 'Mutation', 'Subscription', ...VALUE_TYPES], suffixes: ['Connection', 'Edge'] } },
      ],
      '@graphql-eslint/no-unreachable-types': 'error',
      'api/lists-are-connections': 'error',
      'api/lookups-are-nullable': 'error',
      'api/closed-sets-are-enums': 'error',
    },
  },
];

export interface LintProblem {
  readonly rule: string | null;
  readonly message: string;
  readonly line: number;
  /** The schema line the problem is on. */
  readonly source: string;
}

/** Lint an SDL as the API schema. */
export function lintSchema(sdl: string): LintProblem[] {
  const linter = new Linter({ configType: 'flat' });
  const lines = sdl.split('\n');
  return linter.verify(sdl, lintConfig(sdl), { filename: 'api.graphql' }).map((m) => ({
    rule: m.ruleId,
    message: m.message,
    line: m.line,
    source: (lines[m.line - 1] ?? '').trim(),
  }));
}
