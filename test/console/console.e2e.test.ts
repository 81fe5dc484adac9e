// The web console in headless Chromium against the real product (four subgraphs, workers, gateway,
// on the in-memory backends) as an operator uses it: sign in with a token, watch an event made
// outside the browser arrive on the flow page with its causation chain, run a replay to 100 %,
// watch a saga compensate, run a query and a subscription in the explorer. No request may leave
// 127.0.0.1: the console must work with no internet access. Screenshots go to screenshots/console/.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { AnyNewEvent } from '../../messaging/events/envelope';
import { defaultConsoleDir } from '../../gateway/console-route';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startProduct, type RunningProduct } from '../support/product';
import { makeInvalidEnvelope } from '../support/envelopes';
import { eventually } from '../support/wait';
import { SeverableProxy } from '../support/severable-proxy';
import { launchChromium, recordedPage, requestsOffHost, screenshot, type RecordedPage } from '../support/browser';

jest.setTimeout(90_000);

/**
 * The little of the page's globals these tests touch (the test program has no DOM types). Functions
 * given to page.waitForFunction run in the page, so each casts globalThis itself.
 */
interface PageGlobals {
  readonly document: {
    querySelector(selector: string): { readonly CodeMirror?: { getValue(): string } } | null;
    querySelectorAll(selector: string): ArrayLike<unknown>;
  };
}


const UI_TIMEOUT = 30_000;

describe('web console (headless Chromium, real product)', () => {
  let product: RunningProduct;
  let browser: Browser;
  let recorded: RecordedPage;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(defaultConsoleDir(), 'index.html'))) {
      throw new Error(`The console is not built (${defaultConsoleDir()}): run \`npm run build\` first (npm test does).`);
    }
    product = await startProduct();
    base = new URL(product.gateway.url).origin.replace('localhost', '127.0.0.1');
    browser = await launchChromium();
    recorded = await recordedPage(browser);
    page = recorded.page;
    page.setDefaultTimeout(UI_TIMEOUT);
  });
  afterAll(async () => {
    await browser?.close();
    await product?.close();
  });

  async function createMember(): Promise<string> {
    const id = `m-${randomUUID().slice(0, 8)}`;
    const { body } = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token: product.token(id),
      variables: { input: { email: `${id}@example.org`, firstName: 'Grace', lastName: 'Hopper' } },
    });
    expect(body.errors).toBeUndefined();
    return id;
  }

  async function go(route: string): Promise<void> {
    await page.evaluate(`location.hash = ${JSON.stringify(`#/${route}`)}`);
    await page.locator(`main[data-page="${route.split('?')[0]}"]`).waitFor();
  }

  it('refuses a bad token with the coded error, then signs an admin in over a live connection', async () => {
    await page.goto(`${base}/console/`);
    await page.fill('textarea[name="token"]', 'not-a-token');
    await page.click('button[type="submit"]');
    await page.locator('.errors').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();

    await page.fill('textarea[name="token"]', product.token('admin-1', 'admin'));
    await page.click('button[type="submit"]');
    await page.locator('[data-testid="viewer"]').filter({ hasText: 'admin admin-1' }).waitFor();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    expect(await page.locator('header nav a').allTextContents()).toEqual(['Event flow', 'Consumers', 'Sagas', 'Replays', 'Certifications', 'Analytics', 'Explorer']);
  });

  it('shows an event made outside the browser on the flow page, with its causation chain across services', async () => {
    await go('flow');
    const id = await createMember();
    const row = page.locator(`[data-testid="event-list"] tr[data-event-type="member.created"][data-stream*="${id}"]`);
    await row.waitFor();
    // The filter narrows the list to that member's events.
    await page.fill('input[name="filter"]', id);
    await row.click();
    await page.locator('[data-testid="event-details"] h2').filter({ hasText: 'member.created' }).waitFor();
    // The workers' reactions (CRM sync, confirmation email, ...) carry the same correlation id.
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="causation-chain"] [data-chain-type]').length >= 2);
    const chain = await page.locator('[data-testid="causation-chain"] [data-chain-type]').evaluateAll((els) => els.map((e) => e.getAttribute('data-chain-type')));
    expect(chain[0]).toBe('member.created');
    expect(chain.length).toBeGreaterThanOrEqual(2);
    // Caused events are nested under the event that caused them.
    expect(await page.locator('[data-testid="causation-chain"] ul.chain ul.chain [data-chain-type]').count()).toBeGreaterThanOrEqual(1);
    await page.locator('[data-testid="rate-chart"] canvas').waitFor();
    await page.fill('input[name="filter"]', '');
    await screenshot(page, 'event-flow');
  });

  it('starts a replay, shows the API\'s coded error next to a bad field, and watches the progress bar reach 100 %', async () => {
    await go('replays');
    // The CRM handles member.created: the member made on the flow page is there to replay.
    const target = page.locator('input[type="checkbox"][name="target-crm"]');
    await target.waitFor();
    await target.check();
    await page.fill('input[name="from"]', 'yesterday');
    await page.click('[data-testid="replay-form"] button[type="submit"]');
    await page.locator('.field-error[data-field="from"]').filter({ hasText: 'BAD_USER_INPUT' }).waitFor();

    await page.fill('input[name="from"]', '2000-01-01T00:00:00Z');
    await page.click('[data-testid="replay-form"] button[type="submit"]');
    await page.locator('[data-testid="replay-progress"][aria-valuenow="100"]').waitFor();
    await page.locator('[data-testid="replay-status"]').filter({ hasText: 'COMPLETED' }).waitFor();
    const figures = (await page.locator('[data-testid="replay-figures"]').textContent()) ?? '';
    const [, processed, total] = /(\d+) of (\d+) events/.exec(figures) ?? [];
    expect(Number(total)).toBeGreaterThanOrEqual(1);
    expect(processed).toBe(total);
    await screenshot(page, 'replays');
  });

  it('shows a saga timeline live, its compensation highlighted', async () => {
    await product.graphql(`mutation { setStock(sku: "GOODS-HANDBOOK", available: 0) { sku } }`, { token: product.token('admin-1', 'admin') });
    const memberId = await createMember();
    await go('sagas');
    const { body } = await product.graphql(`mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`, {
      token: product.token(memberId),
      variables: { input: { items: [{ sku: 'GOODS-HANDBOOK', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
    });
    expect(body.errors).toBeUndefined();
    const orderId = (body.data as { createOrder: { id: string } }).createOrder.id;
    await page.fill('input[name="orderId"]', orderId);
    await page.click('form.inline button[type="submit"]');
    const timeline = page.locator(`[data-testid="saga-timeline"][data-order="${orderId}"]`);
    await timeline.locator('li[data-step="ORDER"][data-compensation="true"]').waitFor();
    const steps = await timeline.locator('li').evaluateAll((els) => els.map((e) => ({ step: e.getAttribute('data-step'), compensation: e.classList.contains('compensation') })));
    expect(steps[0]).toEqual({ step: 'ORDER', compensation: false });
    expect(steps.filter((s) => s.compensation).map((s) => s.step)).toEqual(['REFUND', 'REFUND', 'ORDER']);
    await timeline.locator('.pill').filter({ hasText: 'CANCELLED' }).waitFor();
    await screenshot(page, 'sagas');
  });

  it('runs a query and a subscription in the explorer, from the product\'s own files', async () => {
    await go('explorer');
    // CodeMirror instances hang off their elements: set the query and read the response there.
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    const setQuery = (query: string) => page.evaluate(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(${JSON.stringify(query)})`);
    const response = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror?.getValue() ?? '');
    const responseIncludes = (needle: string) =>
      page.waitForFunction((n) => ((globalThis as unknown as PageGlobals).document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror?.getValue() ?? '').includes(n), needle);

    await setQuery('{ viewer { id role } }');
    await page.click('.graphiql-execute-button');
    await responseIncludes('"ADMIN"');
    expect(JSON.parse(await response())).toEqual({ data: { viewer: { id: 'admin-1', role: 'ADMIN' } } });

    // A live-only subscription could open after the event; the x-resume-cursor header (sent as
    // extensions.cursor) makes it read from the store after the current head instead: no race.
    const head = await product.backends.store.headPosition();
    await page.evaluate(
      ([token, cursor]) => {
        const editors = (globalThis as unknown as PageGlobals).document.querySelectorAll('.graphiql-container .CodeMirror') as unknown as { CodeMirror: { getValue(): string; setValue(v: string): void } }[];
        const headers = [...editors].find((e) => e.CodeMirror.getValue().includes('authorization'));
        headers?.CodeMirror.setValue(JSON.stringify({ authorization: `Bearer ${token}`, 'x-resume-cursor': cursor }));
      },
      [product.token('admin-1', 'admin'), String(head)] as const,
    );
    await setQuery('subscription { eventFlow(types: ["member.created"]) { eventType streamId cursor } }');
    const id = await createMember();
    await page.click('.graphiql-execute-button');
    await responseIncludes(id);
    expect(JSON.parse(await response())).toMatchObject({ data: { eventFlow: { eventType: 'member.created', streamId: expect.stringContaining(id) } } });
    await screenshot(page, 'explorer');
    await page.click('.graphiql-execute-button'); // stops the subscription
  });

  it('requeues a dead letter and discards another from the consumers page, each recorded as an event', async () => {
    // Events no consumer can take (invalid payloads) go straight to the dead-letter queues of the
    // consumers bound to their type, the CRM's among them.
    const [kept, dropped] = [
      makeInvalidEnvelope('member.created', { memberId: 'm-dead-1', email: 'not-an-email' }),
      makeInvalidEnvelope('member.created', { memberId: 'm-dead-2', email: 'not-an-email' }),
    ];
    await product.backends.bus.publish([kept, dropped]);
    await go('consumers');
    const crm = page.locator('[data-testid="dead-letters"][data-consumer="crm"]');
    await crm.locator(`tr[data-event-id="${dropped.id}"]`).waitFor();
    await screenshot(page, 'consumers');

    // Discard without a reason: the API's coded error shows next to the reason field.
    await crm.locator(`tr[data-event-id="${dropped.id}"] button[name="discard"]`).click();
    await page.locator('.field-error[data-field="reason"]').filter({ hasText: 'BAD_USER_INPUT' }).waitFor();
    await page.fill('input[name="discardReason"]', 'test data, never to be handled');
    await crm.locator(`tr[data-event-id="${dropped.id}"] button[name="discard"]`).click();
    await crm.locator(`tr[data-event-id="${dropped.id}"]`).waitFor({ state: 'detached' });

    // A requeue sends it back through the queue: still invalid, it is dead-lettered again.
    await crm.locator(`tr[data-event-id="${kept.id}"] button[name="requeue"]`).click();
    const recorded = async () => {
      const types: string[] = [];
      for await (const batch of product.backends.store.readAll({ types: ['dead.letter.requeued', 'dead.letter.discarded'] })) types.push(...batch.map((e) => `${e.type}:${(e.payload as { eventId: string }).eventId}`));
      return types;
    };
    await eventually(async () => (await recorded()).includes(`dead.letter.requeued:${kept.id}`), 'the requeue recorded');
    expect(await recorded()).toEqual(expect.arrayContaining([`dead.letter.discarded:${dropped.id}`, `dead.letter.requeued:${kept.id}`]));
    await eventually(async () => (await product.backends.bus.peekDeadLetters('membership.crm', 100)).some((l) => l.event.id === kept.id), 'the requeued letter dead again');
    await crm.locator(`tr[data-event-id="${kept.id}"]`).waitFor();
  });

  it('shows the remaining pages without errors: certifications, and analytics with a pattern firing live', async () => {
    await go('certifications');
    await page.locator('[data-testid="cert-counts"] .card strong').filter({ hasNotText: '…' }).first().waitFor();
    await screenshot(page, 'certifications');
    await go('analytics');
    await page.locator('.cards .card').first().waitFor();
    // A fraud pattern fires while the page is open (failed payments, then a login from a new place).
    const memberId = await createMember();
    const admin = product.token('admin-1', 'admin');
    const track = async (location: string) => {
      const { body } = await product.graphql('mutation($inputs: [ActivityInput!]!) { trackActivities(inputs: $inputs) { eventId } }', {
        token: admin,
        variables: { inputs: [{ memberId, type: 'MEMBER_LOGIN', location }] },
      });
      expect(body.errors).toBeUndefined();
    };
    await track('Berlin');
    const failed = (n: number): AnyNewEvent => ({ type: 'payment.failed', payload: { paymentId: `p-${memberId}-${n}`, orderId: `o-${memberId}-${n}`, memberId, reason: 'card_declined', message: 'declined' } });
    await product.backends.store.append(`payment-${memberId}`, [failed(1), failed(2)], { expectedVersion: 'any', context: { correlationId: `console-${memberId}` } });
    await track('Lagos');
    await page.locator(`[data-testid="patterns"] li[data-pattern="FRAUD"][data-member="${memberId}"]`).waitFor();
    await screenshot(page, 'analytics');
    expect(await page.locator('.errors').count()).toBe(0);
  });

  it('shows a dropped connection, then resumes the flow from its cursor: what happened meanwhile arrives once', async () => {
    // A second tab reaching the gateway through a proxy the test can cut.
    const proxy = new SeverableProxy(new URL(product.gateway.url));
    const port = await proxy.listen();
    const tab = await recordedPage(browser);
    try {
      tab.page.setDefaultTimeout(UI_TIMEOUT);
      await tab.page.goto(`http://127.0.0.1:${port}/console/#/flow`);
      await tab.page.fill('textarea[name="token"]', product.token('admin-1', 'admin'));
      await tab.page.click('button[type="submit"]');
      await tab.page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
      const before = await createMember();
      await tab.page.locator(`tr[data-event-type="member.created"][data-stream="member-${before}"]`).waitFor();

      proxy.cut(1_000_000);
      await tab.page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
      await screenshot(tab.page, 'event-flow-disconnected');
      const during = await createMember();
      proxy.restore();
      await tab.page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
      await tab.page.locator(`tr[data-event-type="member.created"][data-stream="member-${during}"]`).waitFor();
      // Resumed after the last cursor seen: nothing shown twice.
      for (const id of [before, during]) expect(await tab.page.locator(`tr[data-event-type="member.created"][data-stream="member-${id}"]`).count()).toBe(1);
      expect(requestsOffHost(tab.requests)).toEqual([]);
    } finally {
      await tab.context.close();
      await proxy.close();
    }
  });

  it('shows a member their own pages only: their orders and certifications, and the explorer', async () => {
    const memberId = await createMember();
    const tab = await recordedPage(browser);
    try {
      tab.page.setDefaultTimeout(UI_TIMEOUT);
      await tab.page.goto(`${base}/console/`);
      await tab.page.fill('textarea[name="token"]', product.token(memberId, 'member'));
      await tab.page.click('button[type="submit"]');
      await tab.page.locator('[data-testid="viewer"]').filter({ hasText: `member ${memberId}` }).waitFor();
      expect(await tab.page.locator('header nav a').allTextContents()).toEqual(['Sagas', 'Certifications', 'Explorer']);
      // An admin page asked for by its address shows the member's first page instead.
      await tab.page.evaluate('location.hash = "#/flow"');
      await tab.page.locator('main[data-page="sagas"]').waitFor();
      await tab.page.locator('[data-testid="saga-counts"]').waitFor({ state: 'attached' });
      expect(await tab.page.locator('.errors').count()).toBe(0);
      await screenshot(tab.page, 'member-sagas');
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.context.close();
    }
  });

  it('made no request to any host but 127.0.0.1, and no page error', () => {
    expect(recorded.requests.length).toBeGreaterThan(10);
    expect(requestsOffHost(recorded.requests)).toEqual([]);
    expect(recorded.errors).toEqual([]);
  });
});
