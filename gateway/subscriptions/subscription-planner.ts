// Plans subscription operations against the supergraph with @apollo/query-planner: the root field
// runs on its owning subgraph (the plan's primary fetch); the rest of the plan fetches, per event,
// the fields other subgraphs own. Plans are cached per document and operation name.
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { buildOperationContext } from '@apollo/gateway';
import { QueryPlanner, type FetchNode, type PlanNode } from '@apollo/query-planner';
import { LRUCache } from 'lru-cache';
import { getOperationAST, GraphQLError, Kind, print, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionNode } from 'graphql';

type OperationContext = ReturnType<typeof buildOperationContext>;

export interface SubscriptionPlan {
  /** The name of the subscription's (single) root field, e.g. `memberUpdated`. */
  readonly rootField: string;
  /** The subscription's root field, run on its owning subgraph. */
  readonly primary: FetchNode;
  /** Fetches from other subgraphs for each event, if the selection needs any. */
  readonly rest: PlanNode | null;
  readonly operationContext: OperationContext;
}

export class SubscriptionPlanner {
  readonly supergraph: Supergraph;
  /** The API schema as federation-internals sees it (used by executeQueryPlan). */
  readonly apiSchema: Schema;
  /** The API schema clients see: what subscribe messages are validated against. */
  readonly schema: GraphQLSchema;
  /** The supergraph schema as graphql-js (used by executeQueryPlan). */
  readonly supergraphSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  private readonly cache: LRUCache<string, SubscriptionPlan>;
  /** The same plans by document object: a document the gateway kept is planned without printing it. */
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, SubscriptionPlan>>();

  constructor(
    supergraphSdl: string,
    maxCachedPlans = 500,
  ) {
    this.cache = new LRUCache({ max: maxCachedPlans });
    this.supergraph = Supergraph.build(supergraphSdl);
    this.apiSchema = this.supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = this.supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(this.supergraph);
  }

  /** Plan a (validated) subscription document; throws GraphQLError when it cannot be planned. */
  plan(document: DocumentNode, operationName: string | undefined | null): SubscriptionPlan {
    const known = this.byDocument.get(document)?.get(operationName ?? '');
    if (known) return known;
    const key = `${operationName ?? ''}\n${print(document)}`;
    const cached = this.cache.get(key);
    if (cached) return this.remember(document, operationName, cached);
    const operation = operationFromDocument(this.apiSchema, document, operationName ? { operationName } : {});
    const queryPlan = this.planner.buildQueryPlan(operation);
    const node = queryPlan.node;
    if (!node || node.kind !== 'Subscription') {
      throw new GraphQLError('Only subscription operations run over this path.', { extensions: { code: 'BAD_REQUEST' } });
    }
    const plan: SubscriptionPlan = {
      rootField: rootFieldOf(document, operationName),
      primary: node.primary,
      rest: node.rest ?? null,
      operationContext: buildOperationContext({
        schema: this.schema,
        operationDocument: document,
        ...(operationName ? { operationName } : {}),
      }),
    };
    this.cache.set(key, plan);
    return this.remember(document, operationName, plan);
  }

  private remember(document: DocumentNode, operationName: string | undefined | null, plan: SubscriptionPlan): SubscriptionPlan {
    let plans = this.byDocument.get(document);
    if (!plans) this.byDocument.set(document, (plans = new Map()));
    plans.set(operationName ?? '', plan);
    return plan;
  }
}

/** The root field of a subscription operation (validation leaves exactly one, maybe in fragments). */
function rootFieldOf(document: DocumentNode, operationName: string | undefined | null): string {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const find = (selections: readonly SelectionNode[]): string | null => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) return selection.name.value;
      const set = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
      const found = set ? find(set.selections) : null;
      if (found !== null) return found;
    }
    return null;
  };
  const operation = getOperationAST(document, operationName);
  const field = operation ? find(operation.selectionSet.selections) : null;
  if (field === null) throw new GraphQLError('A subscription selects exactly one root field.', { extensions: { code: 'BAD_REQUEST' } });
  return field;
}
