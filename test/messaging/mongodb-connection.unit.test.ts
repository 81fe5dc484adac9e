// What the MongoDB connection module makes of driver errors and of the driver's view of the
// deployment, without a server: the errors are built as the driver builds them (its exported
// classes, the fields MongoDB documents for a duplicate key), and topology changes are the
// driver's `topologyDescriptionChanged` event emitted by hand. The real driver against an address
// where nothing listens is in mongodb-outage.int.test.ts.
import {
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type TopologyDescription,
} from 'mongodb';
import { ManualClock } from '../../platform/clock';
import { DomainError, UnavailableError } from '../../platform/errors';
import { codedMongoError, duplicateKeyOf, isMongoUnavailable, MongoConnection, mongoCall } from '../../platform/mongodb';
import type { Logger } from '../../platform/logger';

function serverError(fields: Record<string, unknown>): MongoServerError {
  return new MongoServerError({ message: String(fields.errmsg ?? 'server error'), ...fields });
}

/** An insertMany refused at document `index`, as the driver reports it (writeErrors from the server's reply). */
function bulkError(index: number, err: Record<string, unknown>): MongoBulkWriteError {
  const writeError = { index, code: err.code as number, errmsg: err.errmsg as string, err: { index, ...err } };
  return new MongoBulkWriteError({ message: String(err.errmsg), code: err.code as number, writeErrors: [writeError as never] }, {} as never);
}

describe('isMongoUnavailable and codedMongoError', () => {
  it.each([
    ['server selection timed out', new MongoServerSelectionError('Server selection timed out after 5000 ms', {} as TopologyDescription)],
    ['connection refused', new MongoNetworkError('connect ECONNREFUSED 10.1.2.3:27017')],
    ['socket timeout', new MongoNetworkTimeoutError('connection timed out')],
    ['client closed', new MongoTopologyClosedError()],
    ['NotWritablePrimary', serverError({ code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary' })],
    ['PrimarySteppedDown', serverError({ code: 189, codeName: 'PrimarySteppedDown', errmsg: 'stepped down' })],
    ['InterruptedAtShutdown', serverError({ code: 11600, errmsg: 'interrupted at shutdown' })],
    ['a RetryableWriteError label', serverError({ code: 1, errmsg: 'x', errorLabels: ['RetryableWriteError'] })],
  ])('maps %s to UNAVAILABLE naming MongoDB but no host, keeping the cause', (_name, error) => {
    expect(isMongoUnavailable(error)).toBe(true);
    const coded = codedMongoError(error);
    expect(coded).toBeInstanceOf(UnavailableError);
    expect(coded).toMatchObject({ code: 'UNAVAILABLE', details: { backend: 'MongoDB', retryable: true }, cause: error });
    expect((coded as Error).message).not.toMatch(/10\.1\.2\.3|27017/);
  });

  it.each([
    ['a duplicate key', serverError({ code: 11000, errmsg: 'E11000 duplicate key error' })],
    ['an unauthorized command', serverError({ code: 13, codeName: 'Unauthorized', errmsg: 'not authorized' })],
    ['a parse error', new MongoParseError('bad option')],
    ['a plain Error', new Error('bug')],
  ])('leaves %s as it is (not an outage)', (_name, error) => {
    expect(isMongoUnavailable(error)).toBe(false);
    expect(codedMongoError(error)).toBe(error);
  });

  it('passes coded errors through unchanged', () => {
    const coded = new DomainError('CONFLICT', 'taken');
    expect(codedMongoError(coded)).toBe(coded);
  });

  it('maps an insertMany refused only by its write concern (wtimeout) to UNAVAILABLE, but not one with a refused document', () => {
    const concern = new MongoBulkWriteError({ message: 'waiting for replication timed out', code: 64 }, {} as never);
    expect(isMongoUnavailable(concern)).toBe(true);
    expect(isMongoUnavailable(bulkError(0, { code: 11000, errmsg: 'E11000 duplicate key error' }))).toBe(false);
  });

  it('mongoCall rejects with the coded error', async () => {
    await expect(mongoCall(() => Promise.reject(new MongoNetworkError('reset')))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(mongoCall(() => Promise.resolve(7))).resolves.toBe(7);
  });
});

describe('duplicateKeyOf', () => {
  it('reads index, fields and values of a single write from keyPattern and keyValue', () => {
    const error = serverError({
      code: 11000,
      errmsg: 'E11000 duplicate key error collection: membership.members index: ux_email dup key: { email: "a@example.org" }',
      keyPattern: { email: 1 },
      keyValue: { email: 'a@example.org' },
    });
    expect(duplicateKeyOf(error)).toEqual({ index: 'ux_email', fields: ['email'], value: { email: 'a@example.org' }, at: null });
  });

  it("reads an insertMany's first refused document, with its place in the batch", () => {
    const error = bulkError(1, {
      code: 11000,
      errmsg: 'E11000 duplicate key error collection: membership.events index: stream_version dup key: { streamId: "member-a", streamVersion: 2 }',
      keyPattern: { streamId: 1, streamVersion: 1 },
      keyValue: { streamId: 'member-a', streamVersion: 2 },
    });
    expect(duplicateKeyOf(error)).toEqual({
      index: 'stream_version',
      fields: ['streamId', 'streamVersion'],
      value: { streamId: 'member-a', streamVersion: 2 },
      at: 1,
    });
  });

  it('falls back on the message when a server sends no keyPattern, and is null for other errors', () => {
    expect(duplicateKeyOf(serverError({ code: 11000, errmsg: 'E11000 duplicate key error index: _id_ dup key: { _id: "x" }' }))).toEqual({
      index: '_id_',
      fields: [],
      value: null,
      at: null,
    });
    expect(duplicateKeyOf(serverError({ code: 10107, errmsg: 'not primary' }))).toBeNull();
    expect(duplicateKeyOf(new MongoError('x'))).toBeNull();
    expect(duplicateKeyOf(bulkError(0, { code: 121, errmsg: 'Document failed validation' }))).toBeNull();
  });
});

/** The parts of a TopologyDescription the connection reads, as the driver's event carries them. */
function topology(servers: { writable: boolean; error?: string }[]): TopologyDescription {
  return {
    error: null,
    servers: new Map(servers.map((s, i) => [`db${i}:27017`, { isWritable: s.writable, error: s.error ? new MongoNetworkError(s.error) : null }])),
  } as unknown as TopologyDescription;
}

function recordingLogger(): { logger: Logger; lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, msg, fields });
  return { logger: { warn: at('warn'), info: at('info'), debug: at('debug'), error: at('error') } as unknown as Logger, lines };
}

describe('MongoConnection', () => {
  let connection: MongoConnection;
  let clock: ManualClock;
  let log: ReturnType<typeof recordingLogger>;
  let pings: number;
  let pingAnswer: () => Promise<unknown>;

  beforeEach(() => {
    clock = new ManualClock('2025-01-15T09:00:00.000Z');
    log = recordingLogger();
    connection = new MongoConnection({ uri: 'mongodb://db0:27017,db1:27017/membership?replicaSet=rs0', timeoutMs: 2000, clock, logger: log.logger });
    pings = 0;
    pingAnswer = () => Promise.resolve({ ok: 1 });
    // The ping goes through the driver's Db.command; stand in for the server's answer.
    const admin = connection.client.db('admin');
    jest.spyOn(connection.client, 'db').mockImplementation((name?: string) => {
      if (name !== 'admin') return MongoClient.prototype.db.call(connection.client, name);
      return Object.assign(Object.create(admin) as typeof admin, {
        command: () => {
          pings++;
          return pingAnswer();
        },
      });
    });
  });

  afterEach(async () => {
    await connection.close();
  });

  const changed = (description: TopologyDescription) =>
    connection.client.emit('topologyDescriptionChanged', { newDescription: description } as never);

  it('is ready when the ping answers, and pings at most once per second however often it is asked', async () => {
    changed(topology([{ writable: true }, { writable: false }]));
    expect(await connection.health()).toEqual({ backend: 'MongoDB', ok: true, detail: 'ok' });
    await Promise.all([connection.health(), connection.health(), connection.health()]);
    expect(pings).toBe(1);
    clock.advance(999);
    await connection.health();
    expect(pings).toBe(1);
    clock.advance(1);
    await connection.health();
    expect(pings).toBe(2);
  });

  it('shares one ping between callers who ask while it runs', async () => {
    let answer!: () => void;
    pingAnswer = () => new Promise((resolve) => (answer = () => resolve({ ok: 1 })));
    const asked = [connection.health(), connection.health()];
    answer();
    expect(await Promise.all(asked)).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })]);
    expect(pings).toBe(1);
  });

  it('reports MongoDB down at once when the driver knows no writable server, and up again as soon as it finds one', async () => {
    changed(topology([{ writable: true }]));
    expect((await connection.health()).ok).toBe(true);
    changed(topology([{ writable: false, error: 'connect ECONNREFUSED db0:27017' }]));
    // Within the second the last ping is kept for: the driver's own view wins.
    expect(await connection.health()).toEqual({
      backend: 'MongoDB',
      ok: false,
      detail: 'no writable server (primary) reachable: connect ECONNREFUSED db0:27017',
    });
    changed(topology([{ writable: true }]));
    expect((await connection.health()).ok).toBe(true);
  });

  it('reports a failed ping as unreachable, naming the driver error', async () => {
    pingAnswer = () => Promise.reject(new MongoServerSelectionError('Server selection timed out after 2000 ms', {} as TopologyDescription));
    expect(await connection.health()).toEqual({
      backend: 'MongoDB',
      ok: false,
      detail: 'unreachable (Server selection timed out after 2000 ms)',
    });
  });

  it('logs an outage once when it starts and once when it ends, however often the topology changes meanwhile', () => {
    changed(topology([{ writable: false }])); // starting: not an outage
    changed(topology([{ writable: true }, { writable: false }]));
    expect(log.lines).toEqual([]);
    changed(topology([{ writable: false, error: 'connection reset' }, { writable: false }]));
    clock.advance(10_000);
    changed(topology([{ writable: false, error: 'connect ECONNREFUSED' }, { writable: false }]));
    changed(topology([{ writable: false, error: 'connect ECONNREFUSED' }, { writable: false, error: 'connect ECONNREFUSED' }]));
    clock.advance(20_000);
    changed(topology([{ writable: false }, { writable: true }]));
    changed(topology([{ writable: false }, { writable: true }]));
    expect(log.lines.map((l) => [l.level, l.msg.split(':')[0]])).toEqual([
      ['warn', 'MongoDB unavailable'],
      ['info', 'MongoDB available again'],
    ]);
    expect(log.lines[0]?.fields).toMatchObject({ backend: 'MongoDB', problem: 'connection reset' });
    expect(log.lines[1]?.fields).toMatchObject({ backend: 'MongoDB', downForMs: 30_000 });
  });

  it('reports a closed connection as down', async () => {
    await connection.close();
    expect(await connection.health()).toMatchObject({ ok: false, detail: 'the connection is closed' });
  });
});

describe('MongoConnection options', () => {
  it('opens one client per URI with the configured server selection timeout, and the URI database by default', async () => {
    const connection = new MongoConnection({ uri: 'mongodb://a:1,b:2,c:3/app?replicaSet=rs0&authSource=admin', timeoutMs: 1234 });
    try {
      expect(connection.client.options.serverSelectionTimeoutMS).toBe(1234);
      expect(connection.client.options.replicaSet).toBe('rs0');
      expect(connection.client.options.hosts.map(String)).toEqual(['a:1', 'b:2', 'c:3']);
      expect(connection.db().databaseName).toBe('app');
      expect(connection.db('other').databaseName).toBe('other');
      expect(connection.db().client).toBe(connection.client);
    } finally {
      await connection.close();
    }
  });
});
