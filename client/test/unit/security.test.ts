import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_NOT_FOUND, apiNotFound } from '../../src/lib/api-not-found';
import { STRIPE_SOURCES, contentSecurityPolicy, securityHeaders } from '../../src/lib/security-headers.mjs';
import { serverConfig, stripePublishableKey } from '../../src/lib/server/config';

/** The policy as directive → sources. */
function parse(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );
}

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
    const byName = Object.fromEntries(securityHeaders().map((h) => [h.key, h.value]));
    assert.equal(byName['Content-Security-Policy'], undefined, 'set per request by the middleware');
    assert.equal(byName['X-Frame-Options'], 'DENY');
    assert.equal(byName['X-Content-Type-Options'], 'nosniff');
    assert.ok(byName['Referrer-Policy']);
    const csp = contentSecurityPolicy(false);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.doesNotMatch(csp, /stripe/);
    assert.doesNotMatch(csp, /frame-src/);
  });

  it('with card payments, allow exactly what Stripe.js needs and nothing else', () => {
    const without = parse(contentSecurityPolicy(false));
    const withStripe = parse(contentSecurityPolicy(false, { stripe: true }));
    assert.deepEqual(withStripe.get('script-src'), ["'self'", ...STRIPE_SOURCES.script]);
    assert.deepEqual(withStripe.get('connect-src'), ["'self'", ...STRIPE_SOURCES.connect]);
    assert.deepEqual(withStripe.get('frame-src'), STRIPE_SOURCES.frame);
    assert.deepEqual(STRIPE_SOURCES, {
      script: ['https://js.stripe.com', 'https://*.js.stripe.com'],
      frame: ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com'],
      connect: ['https://api.stripe.com'],
    });
    for (const [name, sources] of without) {
      if (['script-src', 'connect-src'].includes(name)) continue;
      assert.deepEqual(withStripe.get(name), sources, `${name} unchanged`);
    }
    assert.deepEqual(
      [...withStripe.keys()].filter((name) => !without.has(name)),
      ['frame-src'],
      'one directive added',
    );
    assert.doesNotMatch(contentSecurityPolicy(false, { stripe: true }), /unsafe|\*\.stripe\.com|maps/);
  });

  it('let next dev hot-reload', () => {
    assert.match(contentSecurityPolicy(true), /'unsafe-eval'/);
    assert.match(contentSecurityPolicy(true, { stripe: true }), /script-src [^;]*'unsafe-eval'[^;]*https:\/\/js\.stripe\.com/);
  });
});

describe('the Stripe publishable key', () => {
  it('turns card payments on only when it looks like one', () => {
    assert.equal(stripePublishableKey({}), undefined);
    assert.equal(stripePublishableKey({ STRIPE_PUBLISHABLE_KEY: '  ' }), undefined);
    assert.equal(stripePublishableKey({ STRIPE_PUBLISHABLE_KEY: ' pk_test_51Abc ' }), 'pk_test_51Abc');
    assert.equal(stripePublishableKey({ STRIPE_PUBLISHABLE_KEY: 'pk_live_9Z' }), 'pk_live_9Z');
    for (const wrong of ['sk_test_123', 'pk_test_', 'pk_prod_1', 'pk_test_1 2', 'pk_test_1"><script>']) {
      assert.equal(stripePublishableKey({ STRIPE_PUBLISHABLE_KEY: wrong }), undefined, wrong);
    }
    assert.equal(serverConfig({ STRIPE_PUBLISHABLE_KEY: 'pk_test_1' }).stripePublishableKey, 'pk_test_1');
    assert.equal(serverConfig({}).stripePublishableKey, undefined);
  });
});
