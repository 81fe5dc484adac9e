// A frontend in headless Chromium, served from an origin of its own (app.test), calls the API and
// subscribes over SSE, graphql-ws and multipart: CORS preflights, GET queries with a token, and
// every browser transport end to end. The same page from an origin not allowed (evil.test) is
// refused by the browser. Chromium is Debian's (/usr/bin/chromium; .ci/run installs it).
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startProduct, type RunningProduct } from '../support/product';
import { servePage, type PageServer } from './support/browser-page';

const CHROMIUM = '/usr/bin/chromium';

interface Update {
  data?: { memberUpdated?: { eventType: string; correlationId: string; member: { id: string; rewardPoints: unknown } } };
  extensions?: { cursor?: string };
}
/** What the page keeps on its window (test/transports/support/browser-page.ts). */
interface PageWindow {
  query: Promise<unknown>;
  received: Record<string, Update[]>;
  failures: string[];
}


describe('a browser app on another origin', () => {
  let product: RunningProduct;
  let page: PageServer;
  let browser: Browser;
  const pages: Page[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does).`);
    page = await servePage();
    product = await startProduct({ env: { CORS_ORIGINS: `http://app.test:${page.port}` } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // The page's origins, both on this machine: one allowed, one not.
        '--host-resolver-rules=MAP app.test 127.0.0.1, MAP evil.test 127.0.0.1',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    for (const p of pages) await p.close();
    await browser?.close();
    await product?.close();
    await page?.close();
  });

  async function open(host: string, memberId: string): Promise<Page> {
    const p = await browser.newPage();
    pages.push(p);
    const query = new URLSearchParams({ api: product.gateway.url, token: product.token(memberId), member: memberId });
    await p.goto(`http://${host}:${page.port}/?${query.toString()}`);
    return p;
  }

  async function renew(id: string): Promise<string> {
    const correlationId = `browser-${randomUUID()}`;
    const renewed = await product.graphql(`mutation($id: ID!) { renewMembership(id: $id, input: { months: 1 }) { id } }`, {
      token: product.token('root', 'admin'),
      variables: { id },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(renewed.body.errors).toBeUndefined();
    return correlationId;
  }

  it('queries with GET and a token, and receives memberUpdated over SSE, graphql-ws and multipart', async () => {
    const id = `browser-${randomUUID()}`;
    const created = await product.graphql(`mutation($id: ID!) { createMember(input: { id: $id, email: "${id}@example.org", firstName: "Bro", lastName: "Wser" }) { id } }`, {
      token: product.token('root', 'admin'),
      variables: { id },
    });
    expect(created.body.errors).toBeUndefined();
    const app = await open('app.test', id);

    const answer = await app.evaluate(() => (globalThis as unknown as PageWindow).query);
    expect(answer).toMatchObject({ status: 200, body: { data: { viewer: { id, role: 'MEMBER' } } } });
    expect((answer as { correlationId: string | null }).correlationId).toBeTruthy(); // an exposed header the script can read

    // Live on every transport once a renewal shows up on all three.
    const allSaw = (correlationId: string) =>
      app.waitForFunction(
        (c) => {
          const w = globalThis as unknown as PageWindow;
          if (w.failures.length > 0) throw new Error(w.failures.join('; '));
          return Object.values(w.received).every((list) => list.some((r) => r.data?.memberUpdated?.correlationId === c));
        },
        correlationId,
        { timeout: 300, polling: 20 },
      );
    let live = false;
    for (let attempt = 1; attempt <= 50 && !live; attempt++) {
      live = await allSaw(await renew(id)).then(
        () => true,
        (error: Error) => {
          if (!/Timeout/.test(error.message)) throw error;
          return false;
        },
      );
    }
    expect(live).toBe(true);

    const correlationId = await renew(id);
    await app.waitForFunction(
      (c) => Object.values((globalThis as unknown as PageWindow).received).every((l) => l.some((r) => r.data?.memberUpdated?.correlationId === c)),
      correlationId,
      { timeout: 10_000, polling: 20 },
    );
    const received = await app.evaluate((c) => {
      const w = globalThis as unknown as PageWindow;
      return Object.fromEntries(Object.entries(w.received).map(([transport, list]) => [transport, list.find((r) => r.data?.memberUpdated?.correlationId === c)]));
    }, correlationId);
    for (const transport of ['sse', 'ws', 'multipart']) {
      expect(received[transport]).toMatchObject({ data: { memberUpdated: { eventType: 'membership.renewed', member: { id } } } });
      expect(typeof received[transport]?.data?.memberUpdated?.member.rewardPoints).toBe('number');
      expect(received[transport]?.extensions?.cursor).toMatch(/^\d+$/);
    }
  }, 90_000);

  it('is refused on an origin the gateway does not allow', async () => {
    const evil = await open('evil.test', 'm-1');
    const answer = await evil.evaluate(() => (globalThis as unknown as PageWindow).query);
    expect(answer).toMatchObject({ error: expect.stringMatching(/Failed to fetch/) });
    // SSE and multipart are fetches too: refused alike. (WebSockets know no CORS; the token guards them.)
    await evil.waitForFunction(() => (globalThis as unknown as PageWindow).failures.length >= 2, undefined, { timeout: 10_000, polling: 20 });
    const failures = await evil.evaluate(() => (globalThis as unknown as PageWindow).failures);
    expect(failures.map((f) => f.split(':')[0]).sort()).toEqual(['multipart', 'sse']);
  }, 30_000);
});
