import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_NOT_FOUND, apiNotFound } from '../../src/lib/api-not-found';
import { contentSecurityPolicy, securityHeaders } from '../../src/lib/security-headers.mjs';

describe('unknown /api paths', () => {
  it('answer the API 404 in its error shape, never HTML', () => {
    const headers: Record<string, string> = {};
    let status = 0;
    let body: unknown;
    apiNotFound({
      setHeader: (name, value) => {
        headers[name] = value;
      },
      status: (code) => {
        status = code;
        return {
          json: (sent) => {
            body = sent;
          },
        };
      },
    });
    assert.equal(status, 404);
    assert.deepEqual(body, { errors: [{ message: 'Not Found' }] });
    assert.deepEqual(body, API_NOT_FOUND);
    assert.equal(headers['cache-control'], 'no-store');
  });
});

describe('security headers', () => {
  it('forbid framing and sniffing, and allow only this origin in production', () => {
    const byName = Object.fromEntries(securityHeaders(false).map((h) => [h.key, h.value]));
    assert.equal(byName['X-Frame-Options'], 'DENY');
    assert.equal(byName['X-Content-Type-Options'], 'nosniff');
    assert.ok(byName['Referrer-Policy']);
    const csp = contentSecurityPolicy(false);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe/);
  });

  it('let next dev hot-reload', () => {
    assert.match(contentSecurityPolicy(true), /'unsafe-eval'/);
  });
});
