// The schema linter over the composed API schema: it passes, and each of its rules fails a schema
// that breaks it (so a new field breaking the conventions fails CI).
import { apiSchemaSdl, lintSchema } from '../support/schema-lint';

/** A small schema that follows every rule; each case below breaks one. */
const base = `
type Query {
  """An order by id; null when unknown."""
  order("""The order id.""" id: ID!): Order
  """Orders, newest first."""
  orders("""The first n.""" first: Int, """After this cursor.""" after: String, """The last n.""" last: Int, """Before this cursor.""" before: String): OrderConnection!
}

"""An order."""
type Order {
  """Unique id."""
  id: ID!
  """Where it is."""
  status: OrderStatus!
  """Total in cents."""
  totalCents: Int!
}

"""Where an order is."""
enum OrderStatus {
  """Placed."""
  OPEN
  """Done."""
  DONE
}

"""A page of orders."""
type OrderConnection {
  """The edges."""
  edges: [OrderEdge!]!
  """Where the page is."""
  pageInfo: PageInfo!
  """All of them."""
  totalCount: Int!
}

"""An order with its cursor."""
type OrderEdge {
  """Its cursor."""
  cursor: String!
  """The order."""
  node: Order!
}

"""Where a page is."""
type PageInfo {
  """More after."""
  hasNextPage: Boolean!
  """More before."""
  hasPreviousPage: Boolean!
  """First cursor."""
  startCursor: String
  """Last cursor."""
  endCursor: String
}
`;

function rulesBroken(sdl: string): string[] {
  return [...new Set(lintSchema(sdl).map((p) => p.rule ?? p.message))].sort();
}

describe('schema lint', () => {
  it("passes over the committed supergraph's API schema", () => {
    const problems = lintSchema(apiSchemaSdl());
    // On failure, the list says which rule, which line, what to do.
    expect(problems).toEqual([]);
  });

  it('passes the reference schema the cases below break', () => {
    expect(lintSchema(base)).toEqual([]);
  });

  const cases: [string, string, string, string][] = [
    ['a growing list that is not a connection', 'totalCents: Int!', 'totalCents: Int!\n  """Its other orders."""\n  related: [Order!]!', 'api/lists-are-connections'],
    ['a lookup by id that is non-null', '"""The order id.""" id: ID!): Order', '"""The order id.""" id: ID!): Order!', 'api/lookups-are-nullable'],
    ['a closed set as a String', 'status: OrderStatus!', 'status: String!', 'api/closed-sets-are-enums'],
    ['a field without a description', '"""Total in cents."""\n  totalCents', 'totalCents', '@graphql-eslint/require-description'],
    ['an enum value without a description', '"""Done."""\n  DONE', 'DONE', '@graphql-eslint/require-description'],
    ['a field in snake case', 'totalCents: Int!', 'total_cents: Int!', '@graphql-eslint/naming-convention'],
    ['an enum value in lower case', 'DONE', 'done', '@graphql-eslint/naming-convention'],
    ['a connection field without backward paging', ', """The last n.""" last: Int, """Before this cursor.""" before: String', '', '@graphql-eslint/relay-arguments'],
    ['a connection without pageInfo', '"""Where the page is."""\n  pageInfo: PageInfo!', '', '@graphql-eslint/relay-connection-types'],
    ['an edge without a cursor', '"""Its cursor."""\n  cursor: String!', '', '@graphql-eslint/relay-edge-types'],
    ['a PageInfo without hasPreviousPage', '"""More before."""\n  hasPreviousPage: Boolean!', '', '@graphql-eslint/relay-page-info'],
    ['an object with an identity but no id', '"""Unique id."""\n  id: ID!', '', '@graphql-eslint/strict-id-in-types'],
  ];

  it.each(cases)('fails %s', (_what, from, to, rule) => {
    expect(base).toContain(from);
    expect(rulesBroken(base.replace(from, to))).toContain(rule);
  });
});
