// The API as a frontend meets it, through the gateway: lookups of missing ids answer null without
// hiding the rest of the data, and (further down) errors, enums, cache identity and names agree
// across subgraphs and transports.
import { startProduct, type RunningProduct } from '../support/product';

describe('the API as a frontend sees it', () => {
  let product: RunningProduct;
  const admin = () => product.token('root', 'admin');

  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  describe('lookups by id', () => {
    it('answer null for a missing id, every one of them, next to data that exists, without an error', async () => {
      const { body } = await product.graphql(
        `{ order(id: "nope") { id } payment(id: "nope") { id } member(id: "nope") { id } certification(id: "nope") { id } replay(id: "nope") { id } viewer { id } }`,
        { token: admin() },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ order: null, payment: null, member: null, certification: null, replay: null, viewer: { id: 'root' } });
    });

    it('answer null to a member asking for a missing order or payment, and FORBIDDEN only for what exists and is not theirs', async () => {
      const token = product.token('lookup-1');
      const { body } = await product.graphql(`{ order(id: "missing") { id } payment(id: "missing") { id } viewer { id } }`, { token });
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ order: null, payment: null, viewer: { id: 'lookup-1' } });
    });

    it('are nullable in the schema: every root field taking an id is', async () => {
      const { body } = await product.graphql(`{ __schema { queryType { fields { name type { kind } args { name type { kind ofType { name } } } } } } }`, {
        token: admin(),
      });
      const fields = (body.data as { __schema: { queryType: { fields: { name: string; type: { kind: string }; args: { name: string; type: { kind: string; ofType: { name: string } | null } }[] }[] } } })
        .__schema.queryType.fields;
      const lookups = fields.filter((f) => f.args.some((a) => a.name === 'id' && a.type.kind === 'NON_NULL' && a.type.ofType?.name === 'ID'));
      expect(lookups.map((f) => f.name).sort()).toEqual(['certification', 'member', 'order', 'payment', 'replay']);
      for (const lookup of lookups) expect([lookup.name, lookup.type.kind]).toEqual([lookup.name, 'OBJECT']);
    });
  });
});
