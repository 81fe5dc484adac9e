// Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser download). Every request a page makes is recorded, so a test can
// prove the console asks nothing of any host but the product's own (it must work offline).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repositoryRoot } from './compose';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests write screenshots for people to look at (git-ignored). */
export const SCREENSHOT_DIR = path.join(repositoryRoot, 'screenshots', 'console');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export interface RecordedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every URL the page requested (documents, scripts, styles, fonts, fetches, WebSockets). */
  readonly requests: string[];
  /** Messages of uncaught page errors and console errors. */
  readonly errors: string[];
}

export async function recordedPage(browser: Browser): Promise<RecordedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => requests.push(socket.url()));
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, context, requests, errors };
}

/** The requests that went anywhere but 127.0.0.1 (data: and blob: URLs stay in the page). */
export function requestsOffHost(requests: readonly string[]): string[] {
  return requests.filter((url) => {
    if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return false;
    try {
      return new URL(url).hostname !== '127.0.0.1';
    } catch {
      return true;
    }
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
