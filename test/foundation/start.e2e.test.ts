// The one-command start, from the build output: starts, prints its URLs and backends, answers,
// and stops cleanly on SIGTERM. Needs `npm run build` first (the test script does it).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from 'rabbitmq-client';
import { freePort } from '../support/ports';
import { createTestVhost } from '../support/rabbit';

const entry = path.resolve(__dirname, '..', '..', 'dist', 'scripts', 'start.js');

function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) resolve(seen);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${seen}`)));
  });
}

describe('npm start (all in one process)', () => {
  it('starts on embedded defaults, says so, serves the gateway, and exits 0 on SIGTERM once fully stopped', async () => {
    expect(fs.existsSync(entry)).toBe(true);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-'));
    const ports = { PORT: await freePort(), MEMBER_PORT: await freePort(), PAYMENT_PORT: await freePort(), CERTIFICATION_PORT: await freePort(), ANALYTICS_PORT: await freePort() };
    // info: the shutdown's last line, "stopped cleanly", is at that level.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const banner = await waitForOutput(child, /Mint a token/);
      expect(banner).toContain(`http://127.0.0.1:${ports.PORT}/graphql`);
      expect(banner).toMatch(/Event store:\s+embedded, file-backed/);
      expect(banner).toMatch(/Event bus:\s+in-process/);
      expect(banner).toMatch(/WARNING: using DEVELOPMENT secrets/);
      const response = await fetch(`http://127.0.0.1:${ports.PORT}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ products { sku } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Exit 0 alone is not enough: a process whose event loop ran empty half way through its
      // shutdown also ends with 0, with the rest of it (the stores' last commits) never run.
      expect(output).toMatch(/stopped cleanly/);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('starts all in one on RabbitMQ with every name at its default (exchange `events`, `membership.*` queues)', async () => {
    const vhost = await createTestVhost('start');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-rabbit-'));
    const ports = { PORT: await freePort(), MEMBER_PORT: await freePort(), PAYMENT_PORT: await freePort(), CERTIFICATION_PORT: await freePort(), ANALYTICS_PORT: await freePort() };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', RABBITMQ_URL: vhost.url };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const banner = await waitForOutput(child, /Mint a token/);
      expect(banner).toMatch(/Event bus:\s+RabbitMQ/);
      const answer = await fetch(`http://127.0.0.1:${ports.PORT}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ products { sku } }' }),
      });
      expect(answer.status).toBe(200);
      // The production topology, declared in the vhost: the live exchange and the consumer queues.
      const amqp = new Connection(vhost.url);
      try {
        for (const exchange of ['events', 'events.dlx']) {
          await expect(amqp.exchangeDeclare({ exchange, passive: true })).resolves.toBeUndefined(); // rejects (404) when absent
        }
        for (const queue of ['membership.crm', 'membership.email', 'membership.crm.dlq']) {
          await expect(amqp.queueDeclare({ queue, passive: true })).resolves.toMatchObject({ queue });
        }
      } finally {
        await amqp.close();
      }
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await vhost.delete();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a bad variable, naming it', async () => {
    const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      let text = '';
      child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
      child.once('exit', (code) => resolve({ code, text }));
    });
    expect(output.code).toBe(1);
    expect(output.text).toMatch(/Configuration error in PORT/);
  });
});
