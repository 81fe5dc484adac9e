// The embedded stores checkpoint their WAL from a thread of each process that opens them, unless the
// process only reads beside the product's own (a tool, the subscription benchmark): then it starts
// none, and its checkpoints and WAL restarts do not hold the product's commits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends } from '../../messaging/backends';
import { loadConfig } from '../../platform/config';
import { SqliteCheckpointer } from '../../platform/sqlite';

describe('createBackends on the embedded stores', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'backends-checkpoints-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function checkpointedFiles(options: { checkpoints?: boolean }): Promise<string[]> {
    const start = jest.spyOn(SqliteCheckpointer, 'start');
    const backends = await createBackends(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), undefined, { announcements: false, ...options });
    try {
      // The event store appends and the document store writes as usual either way.
      await backends.store.append('sync-m-1', [{ type: 'sync.completed', payload: { memberId: 'm-1', system: 'crm', sourceEventId: '00000000-0000-4000-8000-000000000001' } }], {
        expectedVersion: 0,
        context: { correlationId: 'checkpoints-test' },
      });
      await backends.documents.collection<{ id: string }>('probe').insert({ id: 'p-1' });
      expect((await backends.store.readStream('sync-m-1')).length).toBe(1);
      return start.mock.calls.map(([file]) => path.basename(file));
    } finally {
      await backends.close();
    }
  }

  it('checkpoints both files from this process by default', async () => {
    expect((await checkpointedFiles({})).sort()).toEqual(['events.db', 'state.db']);
  });

  it('starts no checkpointer when told the product checkpoints (checkpoints: false)', async () => {
    expect(await checkpointedFiles({ checkpoints: false })).toEqual([]);
  });
});
