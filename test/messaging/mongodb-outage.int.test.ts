// The real MongoDB driver against an address where nothing listens (no server is needed for that):
// every store operation fails within the configured timeout as UNAVAILABLE, coded and retryable,
// instead of hanging for the driver's default 30 s and surfacing as an internal error.
import { createEventStore } from '../../messaging/store/create-event-store';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { UnavailableError } from '../../platform/errors';
import { MongoConnection } from '../../platform/mongodb';
import { freePort } from '../support/ports';

const TIMEOUT_MS = 300;

describe('MongoDB down (nothing listens at the address)', () => {
  let connection: MongoConnection;

  beforeEach(async () => {
    connection = new MongoConnection({ uri: `mongodb://127.0.0.1:${await freePort()}/membership`, timeoutMs: TIMEOUT_MS });
  });

  afterEach(async () => {
    await connection.close();
  });

  /** Runs `operation`, expecting UNAVAILABLE well before the driver's default 30 s. */
  async function expectUnavailable(operation: () => Promise<unknown>): Promise<void> {
    const started = Date.now();
    const error: unknown = await operation().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', details: { backend: 'MongoDB', retryable: true } });
    expect((error as Error).message).not.toMatch(/127\.0\.0\.1/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 5000);
  }

  it('fails to connect with UNAVAILABLE', async () => {
    await expectUnavailable(() => connection.connect());
  });

  it('fails every document store operation with UNAVAILABLE', async () => {
    const store = createDocumentStore({ kind: 'mongo', connection });
    const members = store.collection<{ id: string; email?: string }>('members', { unique: ['email'], indexes: ['email'] });
    await expectUnavailable(() => members.get('m1'));
    await expectUnavailable(() => members.put({ id: 'm1', email: 'a@example.org' }));
    await expectUnavailable(() => members.insert({ id: 'm2' }));
    await expectUnavailable(() => members.update('m1', (current) => current));
    await expectUnavailable(() => members.find({ where: { email: 'a@example.org' } }));
    await expectUnavailable(() => members.count());
    await expectUnavailable(() => members.delete('m1'));
    await store.close();
  });

  it('fails to open the event store with UNAVAILABLE', async () => {
    await expectUnavailable(() => createEventStore({ kind: 'mongo', connection }));
  });

  it('reports MongoDB down on readiness, within the timeout', async () => {
    const started = Date.now();
    const health = await connection.health();
    expect(health).toMatchObject({ backend: 'MongoDB', ok: false });
    expect(health.detail).toMatch(/unreachable|no writable server/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 5000);
  });
});
