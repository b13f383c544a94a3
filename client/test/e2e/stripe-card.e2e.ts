// Card payments in a real browser (Debian's headless Chromium, driven by playwright-core): the
// order page with STRIPE_PUBLISHABLE_KEY set shows Stripe's card form, a declined card and a
// failed 3-D Secure challenge show Stripe's messages, a card that passes its challenge leaves the
// page "processing" until Stripe's webhook has told the payments service, then the confirmation.
//
// Stripe's script cannot be loaded here, so the test serves a stand-in for it at the very URL the
// page loads (https://js.stripe.com/…, and the challenge at https://hooks.stripe.com/…):
// test/e2e/stripe-stand-in/. That also checks the Content-Security-Policy: the page's own
// policy must let those origins load, script and frames. And the test plays Stripe's webhook: it
// signs a payment_intent.succeeded with the endpoint secret of the fleet's payments service.
//
// The services are the real fleet behind the ingress (scripts/fleet.sh up, which sets
// STRIPE_WEBHOOK_SECRET); the web client is a second `next start` of the current build, started
// by this test with a publishable key (the fleet's client stays in test mode, purchase.e2e.ts).
// The browser's /api calls to that second server are passed on to the ingress.
//
// Environment: E2E_BASE_URL (the ingress, http://127.0.0.1:8080), E2E_CHROMIUM
// (/usr/bin/chromium), E2E_STRIPE_WEBHOOK_SECRET (whsec_local_fleet, as scripts/fleet.sh).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const WEBHOOK_SECRET = process.env.E2E_STRIPE_WEBHOOK_SECRET ?? 'whsec_local_fleet';
const PUBLISHABLE_KEY = 'pk_test_standin';
const APP_DIR = path.resolve(__dirname, '../..');
const STAND_IN = path.join(__dirname, 'stripe-stand-in');
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const PASSWORD = 'correct horse battery';
const TEST_TIMEOUT = 180_000;

const SUCCEEDS = '4242 4242 4242 4242';
const DECLINED = '4000 0000 0000 0002';
const NEEDS_3DS = '4000 0027 6000 3184';

let browser: Browser | undefined;
let client: ChildProcess | undefined;
let clientUrl = '';
let skipReason: string | false = false;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The second web client, with card payments on; the group it leads is stopped in after(). */
async function startClient(): Promise<void> {
  if (!existsSync(path.join(APP_DIR, '.next', 'BUILD_ID'))) {
    throw new Error('no build of the client: run scripts/client.sh up (or npm run build) first');
  }
  const port = await freePort();
  clientUrl = `http://127.0.0.1:${port}`;
  mkdirSync(ARTIFACTS, { recursive: true });
  client = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: APP_DIR,
    env: { ...process.env, NODE_ENV: 'production', API_BASE_URL: BASE, STRIPE_PUBLISHABLE_KEY: PUBLISHABLE_KEY },
    detached: true,
    stdio: 'ignore',
  });
  await until('the card-payments client answers /healthz', 30_000, async () =>
    (await fetch(`${clientUrl}/healthz`)).ok ? true : undefined,
  );
}

async function stopClient(): Promise<void> {
  const child = client;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const killed = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
  if (!killed) process.kill(-child.pid, 'SIGKILL');
}

/** Why card payments cannot be tried through the ingress (→ skip), or false. */
async function cardPaymentsOff(): Promise<string | false> {
  const res = await fetch(`${BASE}/api/payments/webhook`, { method: 'POST', body: '{}' });
  const body = await res.text();
  if (res.status === 400 && body.includes('Missing Stripe-Signature header')) return false;
  return (
    `SKIPPED: card payments are off in the fleet (POST ${BASE}/api/payments/webhook answered ${res.status}); ` +
    'start the payments service with STRIPE_WEBHOOK_SECRET (scripts/fleet.sh up sets it)'
  );
}

async function api(apiPath: string, init: { method?: string; body?: unknown; session?: string } = {}) {
  return fetch(`${BASE}${apiPath}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.session ? { cookie: `session=${init.session}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function signUp(email: string): Promise<string> {
  const res = await api('/api/users/signup', { method: 'POST', body: { email, password: PASSWORD } });
  assert.equal(res.status, 201, `sign-up of ${email}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('session='));
  assert.ok(cookie, 'a session cookie');
  return cookie.split(';')[0].slice('session='.length);
}

/** A fresh order of a $12.50 ticket, by a new buyer: [order id, buyer's session]. */
async function newOrder(label: string): Promise<[string, string]> {
  const seller = await signUp(`card-seller-${label}-${RUN}@example.com`);
  const buyer = await signUp(`card-buyer-${label}-${RUN}@example.com`);
  const ticket = await api('/api/tickets', { method: 'POST', session: seller, body: { title: `Card ${label} ${RUN}`, price: 12.5 } });
  assert.equal(ticket.status, 201);
  const { id: ticketId } = (await ticket.json()) as { id: string };
  // The ticket reaches orders by event: until then ordering it is a 404.
  const order = await until('orders knows the new ticket', 15_000, async () => {
    const res = await api('/api/orders', { method: 'POST', session: buyer, body: { ticketId } });
    return res.status === 201 ? ((await res.json()) as { id: string }) : undefined;
  });
  // The order reaches payments by event too.
  await until('payments knows the new order', 15_000, async () => {
    const res = await api('/api/payments/intents', { method: 'POST', session: seller, body: { orderId: order.id } });
    return res.status === 401 ? true : undefined; // someone else's order: payments has it
  });
  return [order.id, buyer];
}

async function orderStatus(orderId: string, session: string): Promise<string> {
  const res = await api(`/api/orders/${orderId}`, { session });
  assert.equal(res.status, 200);
  return ((await res.json()) as { status: string }).status;
}

/** Stripe's payment_intent.succeeded for `orderId`, signed now with the endpoint secret, delivered to the ingress. */
async function deliverSucceeded(orderId: string, intentId: string, cents: number): Promise<globalThis.Response> {
  const body = JSON.stringify({
    id: `evt_e2e_${RUN}_${orderId}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: intentId,
        object: 'payment_intent',
        amount: cents,
        amount_received: cents,
        currency: 'usd',
        status: 'succeeded',
        latest_charge: `ch_e2e_${RUN}`,
        metadata: { order_id: orderId },
      },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex');
  return fetch(`${BASE}/api/payments/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
    body,
  });
}

/** Serves the stand-in for Stripe.js and its frames, and passes the page's /api calls on to the ingress. */
async function wire(page: Page): Promise<string[]> {
  const file = (name: string) => readFileSync(path.join(STAND_IN, name), 'utf8');
  const loadedFromStripe: string[] = [];
  await page.route(/^https:\/\/js\.stripe\.com\//, async (route: Route) => {
    const url = new URL(route.request().url());
    loadedFromStripe.push(url.pathname);
    if (/^\/[a-z0-9]+\/stripe\.js$/.test(url.pathname)) {
      return route.fulfill({ contentType: 'application/javascript', body: file('stripe.js') });
    }
    if (url.pathname === '/stand-in/card-frame.html') {
      return route.fulfill({ contentType: 'text/html', body: file('card-frame.html') });
    }
    return route.fulfill({ status: 404, body: '' });
  });
  await page.route(/^https:\/\/hooks\.stripe\.com\//, (route: Route) =>
    route.fulfill({ contentType: 'text/html', body: file('3ds-challenge.html') }),
  );
  await page.route(`${clientUrl}/api/**`, async (route: Route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: `${BASE}${url.pathname}${url.search}` });
    await route.fulfill({ response });
  });
  return loadedFromStripe;
}

describe('card payments with Stripe Elements (a stand-in for Stripe.js)', { timeout: TEST_TIMEOUT }, () => {
  before(async () => {
    skipReason = await cardPaymentsOff().catch(
      (err) => `SKIPPED: nothing answers at ${BASE} (${err instanceof Error ? err.message : err}): run scripts/fleet.sh up`,
    );
    if (skipReason) {
      console.log(`\n*** ${skipReason} ***\n`);
      return;
    }
    await startClient();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await stopClient();
  });

  it('declined, then a failed and a passed 3-D Secure challenge; processing until the webhook, then paid', { timeout: TEST_TIMEOUT }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const [orderId, buyer] = await newOrder('3ds');
    const context = await browser!.newContext({ viewport: { width: 1000, height: 760 } });
    await context.addCookies([{ name: 'session', value: buyer, url: clientUrl }]);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    // Every request to our own servers, to show no card number is among them.
    const ours: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(clientUrl) || request.url().startsWith(BASE)) {
        ours.push(`${request.method()} ${request.url()} ${request.postData() ?? ''}`);
      }
    });
    const loadedFromStripe = await wire(page);
    const card = page.frameLocator('iframe[name="stand-in-card"]').getByLabel('Card number');
    const pay = page.locator('form[data-testid="card-form"] button[type="submit"]');
    const errors = page.locator('form .errors li');

    await t.test('the order page shows Stripe\'s card form, and its policy lets exactly Stripe in', async () => {
      const response = await page.goto(`${clientUrl}/orders/${orderId}`);
      const csp = response?.headers()['content-security-policy'] ?? '';
      assert.match(csp, /script-src 'self' https:\/\/js\.stripe\.com https:\/\/\*\.js\.stripe\.com;/);
      assert.match(csp, /frame-src https:\/\/js\.stripe\.com https:\/\/\*\.js\.stripe\.com https:\/\/hooks\.stripe\.com;/);
      assert.match(csp, /connect-src 'self' https:\/\/api\.stripe\.com;/);
      await page.getByTestId('card-form').waitFor();
      await card.waitFor();
      assert.equal(await page.locator('.test-mode').count(), 0, 'no test-mode note');
      assert.ok(loadedFromStripe.some((p) => /^\/[a-z0-9]+\/stripe\.js$/.test(p)), `Stripe.js loaded: ${loadedFromStripe}`);
      assert.deepEqual(await page.evaluate(() => (window as any).__stripeStandIn.keys), [PUBLISHABLE_KEY]);
      await page.waitForFunction(() => !(document.querySelector('form[data-testid="card-form"] button') as HTMLButtonElement)?.disabled);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'card-01-form.png'), fullPage: true });
    });

    await t.test('a declined card shows Stripe\'s message and the form stays', async () => {
      await card.fill(DECLINED);
      await pay.click();
      await errors.first().waitFor();
      assert.deepEqual(await errors.allInnerTexts(), ['Your card was declined.']);
      assert.ok(await pay.isEnabled());
      await page.screenshot({ path: path.join(ARTIFACTS, 'card-02-declined.png'), fullPage: true });
    });

    await t.test('a failed 3-D Secure challenge says so; nothing is paid', async () => {
      await card.fill(NEEDS_3DS);
      await pay.click();
      const challenge = page.frameLocator('iframe[name="stand-in-3ds"]');
      await challenge.getByRole('button', { name: 'Fail authentication' }).click();
      await errors.filter({ hasText: 'unable to authenticate' }).waitFor();
      assert.equal(await orderStatus(orderId, buyer), 'created');
    });

    await t.test('a passed challenge: "processing" while the order waits for Stripe\'s webhook', async () => {
      await pay.click();
      const complete = page.frameLocator('iframe[name="stand-in-3ds"]').getByRole('button', { name: 'Complete authentication' });
      await complete.waitFor();
      assert.equal(await pay.innerText(), 'Paying…', 'the form waits for the challenge');
      await page.screenshot({ path: path.join(ARTIFACTS, 'card-03-3ds-challenge.png'), fullPage: true });
      await complete.click();
      await page.getByTestId('payment-processing').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'card-04-processing.png'), fullPage: true });
      const confirmations = (await page.evaluate(() => (window as any).__stripeStandIn.confirmations)) as {
        clientSecret: string;
        withTheCardElement: boolean;
      }[];
      assert.equal(confirmations.length, 3, 'declined, failed challenge, passed challenge');
      for (const c of confirmations) {
        assert.match(c.clientSecret, /^pi_\w+_secret_\w+$/, 'the client secret of the intent the payments service opened');
        assert.ok(c.withTheCardElement, 'confirmed with the card element');
      }
      // Stripe has the money, but only the webhook records it: the order is not complete yet.
      assert.equal(await orderStatus(orderId, buyer), 'created');
      assert.ok(await page.getByTestId('payment-processing').isVisible());
    });

    await t.test("Stripe's webhook records the payment: the page shows the confirmation", async () => {
      const intentId = ((await page.evaluate(() => (window as any).__stripeStandIn.confirmations[2].clientSecret)) as string).split(
        '_secret_',
      )[0];
      const delivered = await deliverSucceeded(orderId, intentId, 1250);
      assert.equal(delivered.status, 200, await delivered.text());
      await page.getByText('Paid — the ticket is yours.').waitFor({ timeout: 45_000 });
      assert.equal(await page.getByTestId('card-form').count(), 0);
      assert.equal(await orderStatus(orderId, buyer), 'complete');
      await page.screenshot({ path: path.join(ARTIFACTS, 'card-05-paid.png'), fullPage: true });
    });

    await t.test('no card number ever reached our servers, and nothing broke on the page', async () => {
      for (const number of [SUCCEEDS, DECLINED, NEEDS_3DS]) {
        const digits = number.replace(/\s+/g, '');
        assert.ok(!ours.some((r) => r.includes(digits) || r.includes(number)), `${number} sent to us`);
      }
      assert.ok(
        ours.some((r) => r.startsWith(`POST ${clientUrl}/api/payments/intents {"orderId":"${orderId}"}`)),
        'the page opened the intent with the order id only',
      );
      assert.deepEqual(cspViolations, []);
      assert.deepEqual(pageErrors, []);
    });

    await context.close();
  });
});
