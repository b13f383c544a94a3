// The API's reference through the ingress, in real headless Chromium: /api/docs renders Swagger UI
// over /api/docs/openapi.json with every operation of the document, under the client's own
// Content-Security-Policy (nothing blocked, nothing loaded from another origin).
//
// Needs the fleet and the client up (scripts/fleet.sh up). Environment as purchase.e2e.ts:
// E2E_BASE_URL (default http://127.0.0.1:8080), E2E_CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

let browser: Browser;

describe('the API reference', { timeout: 120_000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
  });

  it('serves the OpenAPI document as JSON through the ingress', async () => {
    const res = await fetch(`${BASE}/api/docs/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const doc = (await res.json()) as OpenApiDocument;
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/tickets'], 'the document has the tickets routes');
  });

  it('renders every operation at /api/docs without breaking the page policy', async () => {
    const doc = (await (await fetch(`${BASE}/api/docs/openapi.json`)).json()) as OpenApiDocument;
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

    const page = await browser.newPage();
    const violations: string[] = [];
    const foreign: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (err) => violations.push(`page error: ${err.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(BASE) && !request.url().startsWith('data:')) foreign.push(request.url());
    });

    const response = await page.goto(`${BASE}/api/docs`);
    assert.equal(response?.status(), 200);
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 30_000 });
    const shown = await page.locator('.swagger-ui .opblock').count();
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png'), fullPage: true });
    assert.equal(shown, operations, 'one block per operation of the document');
    assert.deepEqual(violations, [], 'nothing the Content-Security-Policy refused');
    assert.deepEqual(foreign, [], 'nothing loaded from another origin');
    await page.close();
  });
});
