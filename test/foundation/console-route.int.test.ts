// The console's files at /console: a built file with its type, caching and same-origin CSP, the
// index for the console's own paths, nothing outside the folder, and a clear 503 when not built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { routedServer } from '../../platform/http-server';
import { consoleRoute, landingPage } from '../../gateway/console-route';

const logger = pino({ level: 'silent' });

async function serveConsole(dir: string): Promise<{ base: string; server: http.Server }> {
  const route = consoleRoute(dir);
  const server = routedServer({ '/console': route, '/console/*': route }, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('console route', () => {
  let root: string;
  let base: string;
  let server: http.Server;
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'console-route-'));
    const dist = path.join(root, 'dist');
    fs.mkdirSync(path.join(dist, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>console</title>');
    fs.writeFileSync(path.join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'outside');
    ({ base, server } = await serveConsole(dist));
  });
  afterAll(async () => {
    await close(server);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('serves a hashed asset with its type, cached for good, under a same-origin CSP', async () => {
    const response = await fetch(`${base}/console/assets/app-1234.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await response.text()).toBe('console.log(1)');
  });

  it('answers the index, never cached, at /console/ and for paths of the console; redirects /console', async () => {
    for (const p of ['/console/', '/console/flow']) {
      const response = await fetch(`${base}${p}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toContain('<title>console</title>');
    }
    const bare = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
  });

  it('answers 404 for a missing asset and for anything outside its folder', async () => {
    expect((await fetch(`${base}/console/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/console/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/console/..%2fsecret.txt`)).status).toBe(404);
  });

  it('says how to build it when the folder holds no build', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'console-empty-'));
    const unbuilt = await serveConsole(empty);
    try {
      const response = await fetch(`${unbuilt.base}/console/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build');
    } finally {
      await close(unbuilt.server);
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('offers the explorer always on the landing page, and Sandbox only when it is on', () => {
    expect(landingPage({ sandbox: false, console: true })).toContain('/console/#/explorer');
    expect(landingPage({ sandbox: false, console: true })).not.toContain('href="/graphql"');
    expect(landingPage({ sandbox: true, console: true })).toContain('href="/graphql"');
  });
});
