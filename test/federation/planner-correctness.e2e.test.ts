// Query planning and execution cases @apollo/gateway 2.14.4 gets wrong on its own, each with a small
// federation of its own behind this project's gateway. They fail without the dependency patches in
// patches/ (see patches/README.md): @requires conditions with arguments, a post-@requires fetch on a
// non-resolvable key, and a field no subgraph can reach from an interface.
import { startFixtureFederation, type FixtureFederation } from './support/fixture-federation';

const link = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

describe('a @requires on a field with arguments that the client also selects with other arguments', () => {
  // `library` owns Shelf.books(first:) and needs the author names of the first two books (which
  // `catalog` knows) to name a shelf's top author; the client asks for the first book only.
  const books = [
    { id: 'b1', shelfId: 's1', authorName: 'Ada' },
    { id: 'b2', shelfId: 's1', authorName: 'Grace' },
    { id: 'b3', shelfId: 's1', authorName: 'Edsger' },
    { id: 'b4', shelfId: 's2', authorName: 'Barbara' },
    { id: 'b5', shelfId: 's2', authorName: 'Donald' },
  ];
  const firstBooks = (shelfId: string, first: number) => books.filter((b) => b.shelfId === shelfId).slice(0, first);
  let federation: FixtureFederation;

  beforeAll(async () => {
    federation = await startFixtureFederation([
      {
        name: 'catalog',
        typeDefs: `${link(['@key'])}
          type Query { shelves: [Shelf!]! }
          type Shelf @key(fields: "id") { id: ID! }
          type Book @key(fields: "id") { id: ID! authorName: String! }`,
        resolvers: {
          Query: { shelves: () => [{ id: 's1' }, { id: 's2' }] },
          Book: { __resolveReference: ({ id }: { id: string }) => books.find((b) => b.id === id) ?? null },
        },
      },
      {
        name: 'library',
        typeDefs: `${link(['@key', '@external', '@requires'])}
          type Shelf @key(fields: "id") {
            id: ID!
            books(first: Int!): [Book!]!
            topAuthor: String! @requires(fields: "books(first: 2) { authorName }")
          }
          type Book @key(fields: "id") { id: ID! authorName: String! @external }`,
        resolvers: {
          Shelf: {
            __resolveReference: (ref: { id: string; books?: { authorName: string }[] }) => ref,
            books: ({ id }: { id: string }, { first }: { first: number }) => firstBooks(id, first).map((b) => ({ id: b.id })),
            topAuthor: ({ books: required }: { books?: { authorName: string }[] }) => {
              // The requirement is "the first two books": anything else is a planning error.
              if (required?.length !== 2) throw new Error(`expected the first 2 books, got ${required?.length ?? 'none'}`);
              return required[1]?.authorName;
            },
          },
          Book: { __resolveReference: ({ id }: { id: string }) => ({ id }) },
        },
      },
    ]);
  });
  afterAll(async () => {
    await federation?.close();
  });

  const expected = {
    shelves: [
      { topAuthor: 'Grace', books: [{ id: 'b1' }] },
      { topAuthor: 'Donald', books: [{ id: 'b4' }] },
    ],
  };

  it("keeps the client's argument when it is a literal", async () => {
    const answer = await federation.query(`{ shelves { topAuthor books(first: 1) { id } } }`);
    expect(answer).toEqual({ data: expected });
  });

  it("keeps the client's argument when it is a variable with a default", async () => {
    const answer = await federation.query(`query Shelves($first: Int = 1) { shelves { topAuthor books(first: $first) { id } } }`);
    expect(answer).toEqual({ data: expected });
    const three = await federation.query(`query Shelves($first: Int!) { shelves { books(first: $first) { id } topAuthor } }`, { first: 3 });
    expect(three).toEqual({
      data: {
        shelves: [
          { books: [{ id: 'b1' }, { id: 'b2' }, { id: 'b3' }], topAuthor: 'Grace' },
          { books: [{ id: 'b4' }, { id: 'b5' }], topAuthor: 'Donald' },
        ],
      },
    });
  });

  it("keeps the client's argument when the field comes from fragments", async () => {
    const answer = await federation.query(`
      query Shelves($first: Int = 1) { shelves { topAuthor ...A ...B } }
      fragment A on Shelf { books(first: $first) { id } }
      fragment B on Shelf { books(first: $first) { id } }`);
    expect(answer).toEqual({ data: expected });
  });

  it('still answers the required field alone', async () => {
    expect(await federation.query(`{ shelves { topAuthor } }`)).toEqual({
      data: { shelves: [{ topAuthor: 'Grace' }, { topAuthor: 'Donald' }] },
    });
  });
});

describe('two @requires of one field with different arguments under the same key', () => {
  // `shipping` computes a fee from the cost in the currency its @requires names; `pricing` answers
  // a cost per currency (EUR is twice USD here, so mixing them up shows).
  const items = [
    { sku: 'i1', usd: 3, weight: 1, category: { minCost: 3 } },
    { sku: 'i2', usd: 5, weight: 2, category: { minCost: 5 } },
  ];
  const costIn = (usd: number, currency: string) => {
    if (currency === 'USD') return usd;
    if (currency === 'EUR') return usd * 2;
    throw new Error(`unknown currency ${currency}`);
  };
  let federation: FixtureFederation;

  beforeAll(async () => {
    federation = await startFixtureFederation([
      {
        name: 'pricing',
        typeDefs: `${link(['@key'])}
          type Query { items: [Item!]! }
          type Item @key(fields: "sku") { sku: ID! cost(currency: String!): Int! weight: Int! category: Category! }
          type Category { minCost(currency: String!): Int! }`,
        resolvers: {
          Query: { items: () => items },
          Item: {
            __resolveReference: ({ sku }: { sku: string }) => items.find((i) => i.sku === sku) ?? null,
            cost: ({ usd }: { usd: number }, { currency }: { currency: string }) => costIn(usd, currency),
          },
          Category: { minCost: ({ minCost }: { minCost: number }, { currency }: { currency: string }) => costIn(minCost, currency) },
        },
      },
      {
        name: 'shipping',
        typeDefs: `${link(['@key', '@external', '@requires'])}
          type Item @key(fields: "sku") {
            sku: ID!
            cost(currency: String!): Int! @external
            weight: Int! @external
            category: Category! @external
            feeUSD: Int! @requires(fields: "cost(currency: \\"USD\\") weight")
            feeEUR: Int! @requires(fields: "cost(currency: \\"EUR\\") weight")
            minFeeEUR: Int! @requires(fields: "category { minCost(currency: \\"EUR\\") } weight")
          }
          type Category @external { minCost(currency: String!): Int! }`,
        resolvers: {
          Item: {
            __resolveReference: (ref: unknown) => ref,
            feeUSD: ({ cost, weight }: { cost: number; weight: number }) => cost * weight * 10,
            feeEUR: ({ cost, weight }: { cost: number; weight: number }) => cost * weight * 10,
            minFeeEUR: ({ category, weight }: { category: { minCost: number }; weight: number }) => category.minCost * weight * 10,
          },
        },
      },
    ]);
  });
  afterAll(async () => {
    await federation?.close();
  });

  it('gives each requiring field the value of its own arguments', async () => {
    const answer = await federation.query(`{ items { sku feeUSD feeEUR } }`);
    expect(answer).toEqual({
      data: {
        items: [
          { sku: 'i1', feeUSD: 30, feeEUR: 60 },
          { sku: 'i2', feeUSD: 100, feeEUR: 200 },
        ],
      },
    });
  });

  it('keeps them apart from the client selecting the field itself and from nested requirements', async () => {
    const answer = await federation.query(`{ items { feeEUR cost(currency: "USD") minFeeEUR feeUSD } }`);
    expect(answer).toEqual({
      data: {
        items: [
          { feeEUR: 60, cost: 3, minFeeEUR: 60, feeUSD: 30 },
          { feeEUR: 200, cost: 5, minFeeEUR: 200, feeUSD: 100 },
        ],
      },
    });
  });
});

describe('an entity with several keys, only some of them resolvable', () => {
  // `badges` lists holders and greets them by name (which `people` owns); its first key on Person
  // cannot resolve a reference, so the fetch that gives `badges` the name must use the other one.
  const people = [
    { id: 'p1', email: 'ada@example.org', name: 'Ada' },
    { id: 'p2', email: 'alan@example.org', name: 'Alan' },
  ];
  let federation: FixtureFederation;

  beforeAll(async () => {
    federation = await startFixtureFederation([
      {
        name: 'people',
        typeDefs: `${link(['@key'])}
          type Person @key(fields: "id") @key(fields: "email", resolvable: false) { id: ID! email: String! name: String! }`,
        resolvers: {
          Person: { __resolveReference: ({ id }: { id: string }) => people.find((p) => p.id === id) ?? null },
        },
      },
      {
        name: 'badges',
        typeDefs: `${link(['@key', '@external', '@requires'])}
          type Query { badge: Badge! }
          type Badge { title: String! holders: [Person!]! }
          type Person @key(fields: "email", resolvable: false) @key(fields: "id") {
            id: ID!
            email: String!
            name: String! @external
            greeting: String! @requires(fields: "name")
          }`,
        resolvers: {
          Query: { badge: () => ({ title: 'Pioneer', holders: people.map(({ id, email }) => ({ id, email })) }) },
          Person: {
            // Only references by id resolve here (the email key is declared resolvable: false).
            __resolveReference: (ref: { id?: string; name?: string }) => {
              const person = people.find((p) => p.id === ref.id);
              return person ? { id: person.id, email: person.email, name: ref.name } : null;
            },
            greeting: ({ name }: { name?: string }) => {
              if (!name) throw new Error('Person.name was not provided');
              return `Hello, ${name}`;
            },
          },
        },
      },
    ]);
  });
  afterAll(async () => {
    await federation?.close();
  });

  it('fetches the requiring field through a resolvable key', async () => {
    const answer = await federation.query(`{ badge { title holders { id name greeting } } }`);
    expect(answer).toEqual({
      data: {
        badge: {
          title: 'Pioneer',
          holders: [
            { id: 'p1', name: 'Ada', greeting: 'Hello, Ada' },
            { id: 'p2', name: 'Alan', greeting: 'Hello, Alan' },
          ],
        },
      },
    });
  });
});

describe('a field only a non-resolvable @interfaceObject defines', () => {
  // `nodes` owns the Resource interface (no implementation anywhere); `extras` adds `label` through
  // an @interfaceObject whose key cannot resolve references, so `label` is reachable only from
  // `extras`' own root field.
  let federation: FixtureFederation;

  beforeAll(async () => {
    federation = await startFixtureFederation([
      {
        name: 'nodes',
        typeDefs: `${link(['@key'])}
          interface Resource @key(fields: "id") { id: ID! }
          interface Asset @key(fields: "id") { id: ID! }
          type Image implements Asset @key(fields: "id") { id: ID! url: String! }
          type Query { resource: Resource }`,
        resolvers: {
          Query: { resource: () => ({ __typename: 'Resource', id: 'r1' }) },
          Asset: { __resolveReference: ({ id }: { id: string }) => ({ __typename: 'Image', id, url: `/images/${id}.png` }) },
          Image: { __resolveReference: ({ id }: { id: string }) => ({ id, url: `/images/${id}.png` }) },
        },
      },
      {
        name: 'extras',
        typeDefs: `${link(['@key', '@interfaceObject'])}
          type Resource @key(fields: "id", resolvable: false) @interfaceObject { id: ID! label: String }
          type Asset @key(fields: "id", resolvable: false) @interfaceObject { id: ID! }
          type Query { extra: Resource featured: Asset! }`,
        resolvers: {
          Query: { extra: () => ({ id: 'r2' }), featured: () => ({ id: 'a1' }) },
          Resource: { label: ({ id }: { id: string }) => `label of ${id}` },
        },
      },
    ]);
  });
  afterAll(async () => {
    await federation?.close();
  });

  it('refuses the field where no subgraph can reach it, instead of answering null without an error', async () => {
    const before = federation.received['nodes']?.length ?? 0;
    const answer = await federation.query(`{ resource { label } }`);
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.length).toBeGreaterThan(0);
    // A supergraph that offers a field no subgraph can serve is the gateway's failure, logged and masked.
    expect(answer.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(federation.received['nodes']?.length ?? 0).toBe(before);
  });

  it('still answers the field from the subgraph that defines it', async () => {
    expect(await federation.query(`{ extra { id label } }`)).toEqual({ data: { extra: { id: 'r2', label: 'label of r2' } } });
  });

  it('still casts a non-resolvable @interfaceObject to its implementation through the interface\'s subgraph', async () => {
    expect(await federation.query(`{ featured { ... on Image { id url } } }`)).toEqual({
      data: { featured: { id: 'a1', url: '/images/a1.png' } },
    });
  });
});
