// End-to-end, in real headless Chromium (Debian's, driven by playwright-core), through the ingress:
// user A signs up and sells a ticket; user B signs up, signs out and in again, sees the ticket on
// `/`, purchases it, watches the countdown, pays and finds the order `complete` on `/orders`; a bad
// sign-up shows the services' validation messages; the ticket list and "My orders" come 50 at a
// time, "More tickets" / "More orders" appending the next page until the last (the cursor read
// from the API's headers through the ingress). Screenshots of each step go to test-artifacts/.
//
// Needs the fleet and the client up (scripts/fleet.sh up; scripts/client.sh up). Environment:
//   E2E_BASE_URL   the ingress (default http://127.0.0.1:8080)
//   E2E_CHROMIUM   the browser binary (default /usr/bin/chromium; `scripts/client.sh browser` installs it)
// Only the payment steps are skipped, with a message saying so, while the payments service is not
// reachable through the ingress; anything else that is down fails the test.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const PASSWORD = 'correct horse battery';
const TEST_TIMEOUT = 180_000;

let browser: Browser;
let paymentsSkipReason: string | false = false;
let shot = 0;

async function screenshot(page: Page, name: string) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => console.error(`[browser] page error on ${page.url()}: ${err.message}`));
  return page;
}

/** Why the app cannot be tested at all (→ fail), or undefined. */
async function preflight(): Promise<string | undefined> {
  try {
    const home = await fetch(`${BASE}/`);
    const html = await home.text();
    if (home.status !== 200 || !html.includes('Tickets for sale')) {
      return `${BASE}/ answered ${home.status} without the tickets page: is the client up? (scripts/client.sh up)`;
    }
    const me = await fetch(`${BASE}/api/users/currentuser`);
    if (!(me.headers.get('content-type') ?? '').includes('json')) {
      return `${BASE}/api/users/currentuser answered ${me.status} (not JSON): is the fleet up? (scripts/fleet.sh up)`;
    }
  } catch (err) {
    return `nothing answers at ${BASE} (${err instanceof Error ? err.message : err}): run scripts/fleet.sh up and scripts/client.sh up`;
  }
  return undefined;
}

/**
 * The payments service counts as reachable when POST /api/payments gets a JSON error from it (401
 * without a session); nginx's own 502 page (no upstream) or a 404 page (no route) mean it is not.
 */
async function paymentsUnreachable(): Promise<string | false> {
  const res = await fetch(`${BASE}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });
  const body = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('json') && body.includes('"errors"')) return false;
  return (
    `SKIPPED: the payments service is not reachable through the ingress yet ` +
    `(POST ${BASE}/api/payments answered ${res.status} ${res.headers.get('content-type') ?? ''}, not a JSON error)`
  );
}

const PAGE_SIZE = 50;
const TICKET_ROWS = '[data-testid="tickets"] tr[data-ticket-id]';
const ORDER_ROWS = '[data-testid="orders"] tr[data-order-id]';

/**
 * Clicks "More …" until the list has no next page, checking that each click appends at most one
 * page. (The button is disabled until the page is hydrated; click() waits for that.)
 */
async function showEveryPage(page: Page, label: 'More tickets' | 'More orders', rows: string) {
  for (let pages = 1; ; pages += 1) {
    assert.ok(pages < 200, 'the pages never end');
    const button = page.getByRole('button', { name: label });
    if ((await button.count()) === 0) return;
    const before = await page.locator(rows).count();
    await button.click();
    await page.waitForFunction(
      ([selector, shown, text]) =>
        document.querySelectorAll(selector).length > shown ||
        ![...document.querySelectorAll('button')].some((b) => b.textContent?.startsWith(text)),
      [rows, before, label] as const,
    );
    const after = await page.locator(rows).count();
    assert.ok(after - before <= PAGE_SIZE, `one click appends at most one page (${before} → ${after})`);
  }
}

async function rowIds(page: Page, rows: string, attribute: string): Promise<string[]> {
  return page.locator(rows).evaluateAll((els, name) => els.map((el) => el.getAttribute(name) ?? ''), attribute);
}

/** The session cookie's value from an API answer (Node's fetch, outside the browser). */
function sessionOf(res: globalThis.Response): string {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('session='));
  assert.ok(cookie, `a session cookie from ${res.url}`);
  return cookie.split(';')[0].slice('session='.length);
}

async function api(path: string, init: { method?: string; body?: unknown; session?: string } = {}) {
  return fetch(`${BASE}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.session ? { cookie: `session=${init.session}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function apiSignUp(email: string): Promise<string> {
  const res = await api('/api/users/signup', { method: 'POST', body: { email, password: PASSWORD } });
  assert.equal(res.status, 201, `sign-up of ${email}`);
  return sessionOf(res);
}

/** Every item of a paged list, through the API (pages of 100, following X-Next-Cursor). */
async function listAll(path: string, session?: string): Promise<{ id: string }[]> {
  const all: { id: string }[] = [];
  for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages += 1) {
    assert.ok(pages < 200, 'the pages never end');
    const res = await api(`${path}?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { session });
    assert.equal(res.status, 200, `GET ${path}`);
    const link = res.headers.get('link');
    cursor = res.headers.get('x-next-cursor');
    assert.equal(link !== null, cursor !== null, 'Link and X-Next-Cursor come together (nginx passes both)');
    if (cursor) assert.ok(link?.includes(`cursor=${cursor}`) && link.endsWith('>; rel="next"'), `Link: ${link}`);
    all.push(...((await res.json()) as { id: string }[]));
  }
  return all;
}

/** At least `count` tickets for sale, listing new ones as `session` only when there are too few. */
async function ticketsForSale(count: number, session: string): Promise<{ id: string }[]> {
  let forSale = await listAll('/api/tickets');
  for (let n = forSale.length; n < count; n += 1) {
    const res = await api('/api/tickets', { method: 'POST', session, body: { title: `E2E Pager ${RUN} #${n}`, price: 5 } });
    assert.equal(res.status, 201, 'a ticket listed');
  }
  if (forSale.length < count) forSale = await listAll('/api/tickets');
  assert.ok(forSale.length >= count, `${forSale.length} tickets for sale, wanted ${count}`);
  return forSale;
}

async function signUp(page: Page, email: string, password: string) {
  await page.goto(`${BASE}/auth/signup`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
}

async function expectSignedInAs(page: Page, email: string) {
  await page.getByTestId('current-user').filter({ hasText: email }).waitFor();
  for (const link of ['Sell tickets', 'My orders', 'Sign out']) {
    assert.ok(await page.getByRole('link', { name: link, exact: true }).isVisible(), `header link ${link}`);
  }
}

describe('the web client in a real browser', { timeout: TEST_TIMEOUT * 3 }, () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true }); // this run's screenshots only
    mkdirSync(ARTIFACTS, { recursive: true });
    const problem = await preflight();
    if (problem) throw new Error(problem);
    paymentsSkipReason = await paymentsUnreachable();
    if (paymentsSkipReason) console.log(`\n*** ${paymentsSkipReason}: the payment steps are skipped ***\n`);
    // playwright gives every launch a fresh temporary profile (it refuses --user-data-dir here).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
  });

  it('A sells a ticket; B buys it, watches the countdown, pays, and finds the order complete', { timeout: TEST_TIMEOUT }, async (t) => {
    const emailA = `seller-${RUN}@example.com`;
    const emailB = `buyer-${RUN}@example.com`;
    const title = `E2E Concert ${RUN}`;
    const contextA = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const contextB = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const a = await newPage(contextA);
    const b = await newPage(contextB);
    let orderId = '';

    await t.test('signed out, the header offers Sign up and Sign in (server-rendered)', async () => {
      await a.goto(`${BASE}/`);
      await a.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
      assert.ok(await a.getByRole('link', { name: 'Sign up', exact: true }).isVisible());
      assert.ok(await a.getByRole('link', { name: 'Sign in', exact: true }).isVisible());
      await screenshot(a, 'home-signed-out');
    });

    await t.test('A signs up', async () => {
      await signUp(a, emailA, PASSWORD);
      await a.waitForURL(`${BASE}/`);
      await expectSignedInAs(a, emailA);
      await screenshot(a, 'seller-signed-up');
    });

    await t.test('A sells a ticket; the price shows two decimals on blur; back to /', async () => {
      await a.getByRole('link', { name: 'Sell tickets', exact: true }).click();
      await a.waitForURL(`${BASE}/tickets/new`);
      await a.getByLabel('Title').fill(title);
      const price = a.getByLabel('Price (USD)');
      await price.fill('25.5');
      await price.blur();
      assert.equal(await price.inputValue(), '25.50');
      await screenshot(a, 'seller-new-ticket-form');
      await a.getByRole('button', { name: 'List ticket' }).click();
      await a.waitForURL(`${BASE}/`);
      // The URL changes before the list is rendered: wait for it, or "More tickets" is not there yet.
      await a.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
      // Oldest first, 50 a page: the new ticket is on the last page.
      await showEveryPage(a, 'More tickets', TICKET_ROWS);
      const row = a.locator('tr', { hasText: title });
      await row.waitFor();
      assert.match(await row.innerText(), /\$25\.50/);
      await screenshot(a, 'seller-ticket-listed');
    });

    await t.test('B signs up, signs out, and signs in again', async () => {
      await signUp(b, emailB, PASSWORD);
      await b.waitForURL(`${BASE}/`);
      await expectSignedInAs(b, emailB);
      await screenshot(b, 'buyer-signed-up');
      await b.getByRole('link', { name: 'Sign out', exact: true }).click();
      await b.waitForURL(`${BASE}/`);
      await b.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
      await screenshot(b, 'buyer-signed-out');
      await b.getByRole('link', { name: 'Sign in', exact: true }).click();
      await b.waitForURL(/\/auth\/signin/);
      await b.getByLabel('Email address').fill(emailB);
      await b.getByLabel('Password').fill(PASSWORD);
      await b.getByRole('button', { name: 'Sign in' }).click();
      await b.waitForURL(`${BASE}/`);
      await expectSignedInAs(b, emailB);
    });

    await t.test("the first paint already knows B (server-rendered with B's cookie, no JavaScript)", async () => {
      const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await contextB.storageState() });
      const page = await newPage(noJs);
      await page.goto(`${BASE}/`);
      assert.equal(await page.getByTestId('current-user').innerText(), emailB);
      assert.ok(await page.getByRole('link', { name: 'My orders', exact: true }).isVisible());
      const rows = await page.locator(TICKET_ROWS).count();
      assert.ok(rows >= 1 && rows <= PAGE_SIZE, `the first page of tickets is in the HTML (${rows} rows)`);
      await screenshot(page, 'buyer-first-paint-without-javascript');
      await noJs.close();
    });

    await t.test('B sees the ticket on / and opens it', async () => {
      await showEveryPage(b, 'More tickets', TICKET_ROWS);
      const row = b.locator('tr', { hasText: title });
      await row.waitFor();
      assert.match(await row.innerText(), /\$25\.50/);
      await screenshot(b, 'buyer-sees-ticket');
      await row.getByRole('link').click();
      await b.waitForURL(/\/tickets\/[0-9a-f]{24}$/);
      await b.getByRole('heading', { name: title }).waitFor();
      assert.equal(await b.getByTestId('price').innerText(), '$25.50');
      await screenshot(b, 'buyer-ticket-page');
    });

    await t.test('B purchases: the order page counts down', async () => {
      await b.getByRole('button', { name: 'Purchase' }).click();
      await b.waitForURL(/\/orders\/[0-9a-f]{24}$/);
      orderId = new URL(b.url()).pathname.split('/').pop()!;
      const countdown = b.getByTestId('countdown').locator('strong');
      await countdown.waitFor();
      const seconds = (text: string) => {
        const [m, s] = text.split(':').map(Number);
        return m * 60 + s;
      };
      const first = seconds(await countdown.innerText());
      assert.ok(first > 0 && first <= 900, `countdown starts within the reservation window, got ${first}s`);
      await b.waitForTimeout(2200);
      const second = seconds(await countdown.innerText());
      assert.ok(second < first && second >= first - 4, `the countdown runs: ${first}s then ${second}s`);
      assert.ok(await b.getByRole('button', { name: 'Pay $25.50' }).isVisible());
      // The fleet's client has no STRIPE_PUBLISHABLE_KEY: test mode, and no Stripe in its policy.
      assert.ok(await b.locator('.test-mode').isVisible(), 'the test-mode note');
      const csp = (await fetch(b.url(), { headers: { cookie: `session=${(await contextB.cookies()).find((c) => c.name === 'session')?.value}` } })).headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self';/);
      assert.doesNotMatch(csp, /stripe/);
      await screenshot(b, 'buyer-order-countdown');
    });

    await t.test('past its expiry the order page says "Order expired" (browser clock fast-forwarded)', async () => {
      // A context of its own: the clock is per context, and B's page must keep the real one.
      const clocked = await browser.newContext({
        viewport: { width: 1000, height: 700 },
        storageState: await contextB.storageState(),
      });
      const page = await newPage(clocked);
      await page.clock.install();
      await page.goto(`${BASE}/orders/${orderId}`);
      await page.getByTestId('countdown').waitFor();
      await page.clock.fastForward('16:00');
      await page.getByTestId('expired').waitFor();
      assert.equal(await page.getByTestId('countdown').count(), 0, 'no countdown once expired');
      assert.equal(await page.getByRole('button', { name: /^Pay/ }).count(), 0, 'no pay form once expired');
      await screenshot(page, 'buyer-order-expired-fast-forwarded');
      await clocked.close();
    });

    await t.test('B pays with the test token and lands on /orders', { skip: paymentsSkipReason }, async () => {
      assert.ok(await b.getByTestId('countdown').isVisible(), "B's order page still counts down");
      await b.getByRole('button', { name: 'Pay $25.50' }).click();
      await b.waitForURL(new RegExp(`/orders\\?paid=${orderId}$`), { timeout: 30_000 });
      await screenshot(b, 'buyer-paid');
    });

    await t.test('the order shows as complete on /orders', { skip: paymentsSkipReason }, async () => {
      // payments → payment.created → orders marks it complete; the page re-renders until then.
      const row = b.locator(`tr[data-order-id="${orderId}"]`);
      await row.locator('[data-status="complete"]').waitFor({ timeout: 45_000 });
      assert.match(await row.innerText(), new RegExp(`${title}[\\s\\S]*\\$25\\.50[\\s\\S]*complete`));
      await screenshot(b, 'buyer-orders-complete');
      await b.goto(`${BASE}/orders/${orderId}`);
      await b.getByText('Paid — the ticket is yours.').waitFor();
      assert.equal(await b.getByTestId('countdown').count(), 0);
      await screenshot(b, 'buyer-order-page-paid');
    });

    await t.test('the sold ticket is no longer for sale', { skip: paymentsSkipReason }, async () => {
      await b.goto(`${BASE}/`);
      await b.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
      await showEveryPage(b, 'More tickets', TICKET_ROWS);
      assert.equal(await b.locator('tr', { hasText: title }).count(), 0);
    });

    await contextA.close();
    await contextB.close();
  });

  it('tickets for sale come 50 at a time; "More tickets" appends each next page once, in order', { timeout: TEST_TIMEOUT }, async () => {
    const seller = await apiSignUp(`pager-seller-${RUN}@example.com`);
    const expected = (await ticketsForSale(PAGE_SIZE + 1, seller)).map((t) => t.id);
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await newPage(context);
    await page.goto(`${BASE}/`);
    await page.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
    assert.equal(await page.locator(TICKET_ROWS).count(), PAGE_SIZE, 'the first page holds 50');
    assert.ok(await page.getByRole('button', { name: 'More tickets' }).isVisible());
    await screenshot(page, 'tickets-first-page');

    await page.getByRole('button', { name: 'More tickets' }).click();
    await page.waitForFunction(([rows, n]) => document.querySelectorAll(rows).length > n, [TICKET_ROWS, PAGE_SIZE] as const);
    await showEveryPage(page, 'More tickets', TICKET_ROWS);
    const shown = await rowIds(page, TICKET_ROWS, 'data-ticket-id');
    assert.equal(new Set(shown).size, shown.length, 'no ticket shown twice');
    assert.deepEqual(shown, expected, 'every ticket for sale once, in the order the API lists them');
    assert.equal(await page.getByRole('button', { name: 'More tickets' }).count(), 0, 'no button on the last page');
    await screenshot(page, 'tickets-every-page');
    await context.close();
  });

  it('"My orders" comes 50 at a time; "More orders" appends the rest', { timeout: TEST_TIMEOUT }, async () => {
    // 51 orders for a new buyer, each cancelled right away so its ticket is for sale again.
    const seller = await apiSignUp(`orders-pager-seller-${RUN}@example.com`);
    const buyer = await apiSignUp(`orders-pager-${RUN}@example.com`);
    const forSale = await ticketsForSale(PAGE_SIZE + 1, seller);
    const orderIds: string[] = [];
    for (const ticket of forSale) {
      if (orderIds.length > PAGE_SIZE) break;
      let res = await api('/api/orders', { method: 'POST', session: buyer, body: { ticketId: ticket.id } });
      // A ticket listed a moment ago may not have reached orders yet.
      for (let tries = 0; res.status === 404 && tries < 20; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        res = await api('/api/orders', { method: 'POST', session: buyer, body: { ticketId: ticket.id } });
      }
      if (res.status === 400) continue; // reserved by someone else meanwhile
      assert.equal(res.status, 201, `ordering ${ticket.id}`);
      const { id } = (await res.json()) as { id: string };
      orderIds.push(id);
      assert.equal((await api(`/api/orders/${id}`, { method: 'DELETE', session: buyer })).status, 204);
    }
    assert.equal(orderIds.length, PAGE_SIZE + 1);
    assert.deepEqual((await listAll('/api/orders', buyer)).map((o) => o.id), orderIds);

    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    await context.addCookies([{ name: 'session', value: buyer, url: BASE }]);
    const page = await newPage(context);
    await page.goto(`${BASE}/orders`);
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
    assert.deepEqual(await rowIds(page, ORDER_ROWS, 'data-order-id'), orderIds.slice(0, PAGE_SIZE));
    await page.getByRole('button', { name: 'More orders' }).click();
    await page.getByRole('button', { name: 'More orders' }).waitFor({ state: 'detached' });
    assert.deepEqual(await rowIds(page, ORDER_ROWS, 'data-order-id'), orderIds, 'the 51st appended, once');
    await screenshot(page, 'orders-every-page');
    await context.close();
  });

  it('a bad sign-up shows the validation messages next to the form; the button waits for the answer', { timeout: TEST_TIMEOUT }, async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await newPage(context);
    await page.goto(`${BASE}/auth/signup`);
    await page.getByLabel('Email address').fill('not-an-email');
    await page.getByLabel('Password').fill('short');

    // Hold the request in the browser to see the form while it is in flight.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/users/signup', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Sign up' }).click();
    const busy = page.locator('form button[type="submit"]');
    await page.waitForFunction(() => (document.querySelector('form button[type="submit"]') as HTMLButtonElement)?.disabled === true);
    assert.equal(await busy.innerText(), 'Sign up…');
    await screenshot(page, 'bad-signup-in-flight');
    release();

    const errors = page.locator('form .errors li');
    await errors.first().waitFor();
    assert.deepEqual(await errors.allInnerTexts(), ['Email must be valid', 'Password must be between 8 and 64 characters']);
    assert.ok(await page.getByRole('button', { name: 'Sign up' }).isEnabled(), 'the button is back');
    assert.equal(new URL(page.url()).pathname, '/auth/signup', 'still on the form');
    await screenshot(page, 'bad-signup-errors');

    // A taken email (emails compare case-insensitively): the service's own message.
    const taken = `taken-${RUN}@example.com`;
    const created = await fetch(`${BASE}/api/users/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: taken, password: PASSWORD }),
    });
    assert.equal(created.status, 201);
    await page.unroute('**/api/users/signup');
    await page.getByLabel('Email address').fill(taken.toUpperCase());
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.locator('form .errors li', { hasText: 'Email in use' }).waitFor();
    assert.deepEqual(await errors.allInnerTexts(), ['Email in use']);
    await screenshot(page, 'signup-email-in-use');
    await context.close();
  });
});
