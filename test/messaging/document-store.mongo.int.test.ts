// The DocumentStore contract against a real MongoDB (replica set or standalone mongod 6+). Runs only
// when MONGODB_URI is set; each test gets its own database, dropped afterwards. The database-name
// checks above it need no server.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { MongoDocumentStore } from '../../messaging/state/mongo-document-store';
import { documentStoreContract } from '../contracts/document-store.contract';
import { MongoConnection } from '../../platform/mongodb';

const uri = process.env.MONGODB_URI;

describe('createDocumentStore({ kind: "mongo" })', () => {
  // No server is contacted: the driver connects on the first operation.
  const dbNameOf = (store: unknown) => (store as { db: { databaseName: string } }).db.databaseName;

  it('uses dbName, else the database in the URI, else membership', async () => {
    const stores = [
      createDocumentStore({ kind: 'mongo', uri: 'mongodb://127.0.0.1:1/fromuri', dbName: 'explicit' }),
      createDocumentStore({ kind: 'mongo', uri: 'mongodb://127.0.0.1:1/fromuri' }),
      createDocumentStore({ kind: 'mongo', uri: 'mongodb://127.0.0.1:1' }),
    ];
    expect(stores.map(dbNameOf)).toEqual(['explicit', 'fromuri', 'membership']);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("uses the shared connection's database, the one the event store uses (a slash in an option value is no path)", async () => {
    const connection = new MongoConnection({ uri: 'mongodb://127.0.0.1:1?authSource=admin&appName=a/b' });
    const store = createDocumentStore({ kind: 'mongo', connection });
    expect(dbNameOf(store)).toBe('membership');
    expect(dbNameOf(store)).toBe(connection.db().databaseName);
    await store.close();
    await connection.close();
  });
});

if (uri) {
  const client = new MongoClient(uri, { ignoreUndefined: true });
  afterAll(async () => {
    await client.close();
  });

  documentStoreContract('mongodb', async () => {
    const db = client.db(`docstore_test_${randomUUID().slice(0, 8)}`);
    const store = new MongoDocumentStore(db);
    return {
      store,
      dispose: async () => {
        await db.dropDatabase();
        await store.close();
      },
    };
  });

  it('drops the index of a retired field that an earlier version made (ix_<field>), and only that', async () => {
    const db = client.db(`docstore_test_${randomUUID().slice(0, 8)}`);
    const earlier = new MongoDocumentStore(db);
    const store = new MongoDocumentStore(db);
    try {
      await earlier.collection<{ id: string; consumer: string; at: string }>('processed', { indexes: ['consumer', 'at'] }).put({ id: 'crm:e1', consumer: 'crm', at: 'x' });
      const names = async () => (await db.collection('processed').indexes()).map((i) => i.name).sort();
      expect(await names()).toEqual(['_id_', 'ix_at', 'ix_consumer']);
      const markers = store.collection<{ id: string; consumer: string; at: string }>('processed', { indexes: ['at'], retiredIndexes: ['consumer'] });
      expect((await markers.find({ where: { consumer: 'crm' } })).map((d) => d.id)).toEqual(['crm:e1']);
      expect(await names()).toEqual(['_id_', 'ix_at']);
    } finally {
      await db.dropDatabase();
      await Promise.all([earlier.close(), store.close()]);
    }
  });
} else {
  // Visible in every run without MongoDB: these tests did NOT run against MongoDB.
  console.warn('DocumentStore MongoDB contract skipped: MONGODB_URI not set');
  describe.skip('DocumentStore contract: mongodb (skipped: MONGODB_URI not set)', () => {
    it('skipped: MONGODB_URI not set', () => undefined);
  });
}
