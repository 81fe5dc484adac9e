// A GraphQL request whose data lives in a MongoDB that cannot be reached gets a coded, retryable
// UNAVAILABLE answer within seconds, not INTERNAL_SERVER_ERROR after 30 s. The product runs on
// in-memory backends whose document store is then switched to the real MongoDB adapter on an
// address where nothing listens: the driver's own failure travels through resolver, subgraph and
// gateway.
import type { Doc, DocumentCollection, DocumentStore, CollectionOptions } from '../../messaging/state/document-store';
import { createMemoryBackends } from '../../messaging/backends';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { MongoConnection } from '../../platform/mongodb';
import { freePort } from '../support/ports';
import { startProduct, type RunningProduct } from '../support/product';

/** Delegates to `healthy` until `down` is set, then to `outage` (collections are looked up per call). */
class SwitchableDocumentStore implements DocumentStore {
  down = false;
  constructor(
    private readonly healthy: DocumentStore,
    private readonly outage: DocumentStore,
  ) {}

  collection<T extends Doc>(name: string, options?: CollectionOptions<T>): DocumentCollection<T> {
    const pick = () => (this.down ? this.outage : this.healthy).collection<T>(name, options);
    return new Proxy({} as DocumentCollection<T>, {
      get: (_target, property) => {
        if (property === 'name') return name;
        const collection = pick() as unknown as Record<PropertyKey, unknown>;
        const value = collection[property];
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(collection) : value;
      },
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.healthy.close(), this.outage.close()]);
  }
}

describe('GraphQL answers while MongoDB is unreachable', () => {
  let product: RunningProduct;
  let documents: SwitchableDocumentStore;
  let mongo: MongoConnection;

  beforeAll(async () => {
    mongo = new MongoConnection({ uri: `mongodb://127.0.0.1:${await freePort()}/membership`, timeoutMs: 500 });
    const memory = await createMemoryBackends();
    documents = new SwitchableDocumentStore(memory.documents, createDocumentStore({ kind: 'mongo', connection: mongo }));
    product = await startProduct({ backends: { ...memory, documents } });
  });

  afterAll(async () => {
    await product?.close();
    await documents?.close();
    await mongo?.close();
  });

  it('answers UNAVAILABLE (retryable) within seconds, and normally again once the store is back', async () => {
    const token = product.token('admin-1', 'admin');
    const query = '{ member(id: "m-404") { id } }';
    expect((await product.graphql(query, { token })).body).toEqual({ data: { member: null } });

    documents.down = true;
    const started = Date.now();
    const { status, body } = await product.graphql(query, { token });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(status).toBe(200);
    expect(body.errors?.[0]).toMatchObject({
      message: 'MongoDB is unavailable right now: try again in a few seconds.',
      extensions: { code: 'UNAVAILABLE', backend: 'MongoDB', retryable: true },
    });
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|INTERNAL_SERVER_ERROR/);

    documents.down = false;
    expect((await product.graphql(query, { token })).body).toEqual({ data: { member: null } });
  });
});
