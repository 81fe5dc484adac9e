// Query planning and execution cases @apollo/gateway 2.14.4 gets wrong on its own, each with a small
// federation of its own behind this project's gateway. They fail without the dependency patches in
// patches/ (see patches/README.md): @requires conditions with arguments, a post-@requires fetch on a
// non-resolvable key, and a field no subgraph can reach from an interface.
import { startFixtureFederation, type FixtureFederation } from './support/fixture-federation';

const link = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

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
          type Query { resource: Resource }`,
        resolvers: { Query: { resource: () => ({ __typename: 'Resource', id: 'r1' }) } },
      },
      {
        name: 'extras',
        typeDefs: `${link(['@key', '@interfaceObject'])}
          type Resource @key(fields: "id", resolvable: false) @interfaceObject { id: ID! label: String }
          type Query { extra: Resource }`,
        resolvers: {
          Query: { extra: () => ({ id: 'r2' }) },
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
});
