// The DocumentStore contract against a real MongoDB (standalone mongod 6+). Runs only when
// MONGODB_URI is set; each test gets its own database, dropped afterwards.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { MongoDocumentStore, databaseInUri } from '../../messaging/state/mongo-document-store';
import { documentStoreContract } from '../contracts/document-store.contract';

const uri = process.env.MONGODB_URI;

describe('databaseInUri', () => {
  it('reads the database from single-host, multi-host and SRV URIs', () => {
    expect(databaseInUri('mongodb://localhost:27017/membership')).toBe('membership');
    expect(databaseInUri('mongodb://a:1,b:2/app?replicaSet=rs0')).toBe('app');
    expect(databaseInUri('mongodb+srv://u:p@cluster.example.net/prod?retryWrites=true')).toBe('prod');
    expect(databaseInUri('mongodb://localhost:27017/?w=1')).toBeNull();
    expect(databaseInUri('mongodb://localhost:27017')).toBeNull();
  });
});

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
} else {
  // Visible in every run without MongoDB: these tests did NOT run against MongoDB.
  console.warn('DocumentStore MongoDB contract skipped: MONGODB_URI not set');
  describe.skip('DocumentStore contract: mongodb (skipped: MONGODB_URI not set)', () => {
    it('skipped: MONGODB_URI not set', () => undefined);
  });
}
