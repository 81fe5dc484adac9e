// The event monitor shows the deployment, not one process: a worker process (from the build output)
// publishes and consumes the events of a member's registration; the monitor of another process on
// the same store (this one, as the analytics subgraph would be) counts that traffic per type.
// Needs `npm run build` first (the test script does it).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends, type Backends } from '../../messaging/backends';
import { eventMonitorSnapshot } from '../../messaging/monitor/event-monitor';
import { eventsPublished } from '../../messaging/monitor/metrics';
import { systemClock } from '../../platform/clock';
import { loadConfig } from '../../platform/config';
import { MemberService } from '../../subgraphs/member/domain/member-service';
import { freePort } from '../support/ports';
import { eventually } from '../support/wait';

const worker = path.resolve(__dirname, '..', '..', 'dist', 'scripts', 'worker.js');

describe('event monitor of a deployment split into processes', () => {
  let dataDir: string;
  let backends: Backends;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitor-'));
    backends = await createBackends(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), systemClock, { announcements: false });
  });
  afterAll(async () => {
    await backends.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts, per type, the events another process published and consumed", async () => {
    const child = spawn(process.execPath, [worker], {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', DATA_DIR: dataDir, WORKER_PORT: String(await freePort()), FOLLOWER_POLL_MS: '20', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (/worker started/.test(seen)) resolve();
        });
        void exited.then((code) => reject(new Error(`worker exited with ${code}:\n${seen}`)));
      });
      // This process registers a member; the worker's relay publishes it, its consumers sync the
      // CRM and send the email, and it publishes what they record.
      const members = new MemberService(backends.store, backends.documents, systemClock, 50);
      await members.create({ sub: 'admin', role: 'admin', expiresAt: null }, { id: 'split-1', email: 'split-1@example.org', firstName: 'Split', lastName: 'Monitor' }, { correlationId: 'monitor-split' });

      const traffic = await eventually(async () => {
        const { types } = await eventMonitorSnapshot(backends);
        const of = (type: string) => types.find((t) => t.type === type);
        const seen = ['member.created', 'sync.completed', 'email.sent'].every((type) => (of(type)?.published ?? 0) >= 1);
        return seen && (of('member.created')?.consumed ?? 0) >= 1 ? types : null;
      }, 'the worker process\'s traffic in this process\'s monitor');
      expect(traffic.find((t) => t.type === 'member.created')).toMatchObject({ published: 1, retried: 0, deadLettered: 0 });
      // None of it was counted in this process: the monitor read what the worker wrote.
      const here = (await eventsPublished.get()).values.filter((v) => ['member.created', 'sync.completed', 'email.sent'].includes(String(v.labels.type)));
      expect(here).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 90_000); // a process to start: ~5 s alone, several times that on a busy machine
});
