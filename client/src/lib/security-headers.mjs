// The security headers of every page and asset of the web client. Plain JavaScript:
// next.config.mjs imports it before any TypeScript is compiled.
//
// The production build (pages router) runs no inline script or style: every script and stylesheet
// is a file under /_next/static, and __NEXT_DATA__ is a JSON data block, which CSP does not treat
// as a script. So the policy allows this origin only — plus, when card payments are on
// (STRIPE_PUBLISHABLE_KEY), exactly what Stripe.js needs (STRIPE_SOURCES). `next dev` needs eval
// and inline styles for hot reload, and a websocket back to itself.
//
// The Content-Security-Policy depends on the environment read at request time, so it is set by
// src/middleware.ts on every response; the other headers never change and come from
// next.config.mjs `headers()`.
// Strict-Transport-Security is added by the ingress that terminates TLS (ingress-nginx does for a
// host with a certificate); over the local plain-http ingress a browser would ignore it anyway.

/**
 * What Stripe.js and its Elements load (Stripe's integration security guide, "Content Security
 * Policy"): the script from js.stripe.com (and its subdomains), the card fields and the 3-D Secure
 * challenge in frames from js.stripe.com and hooks.stripe.com, and calls to api.stripe.com.
 * Google Maps, which Stripe lists for its address autocomplete, is left out: no address element here.
 */
export const STRIPE_SOURCES = {
  script: ['https://js.stripe.com', 'https://*.js.stripe.com'],
  frame: ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com'],
  connect: ['https://api.stripe.com'],
};

/** @param {boolean} dev @param {{ stripe?: boolean }} [options] */
export function contentSecurityPolicy(dev, options = {}) {
  const stripe = options.stripe === true;
  /** @param {string[]} base @param {string[]} extra */
  const sources = (base, extra) => [...base, ...(stripe ? extra : [])].join(' ');
  const directives = [
    "default-src 'self'",
    `script-src ${sources(dev ? ["'self'", "'unsafe-eval'", "'unsafe-inline'"] : ["'self'"], STRIPE_SOURCES.script)}`,
    dev ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${sources(dev ? ["'self'", 'ws:', 'wss:'] : ["'self'"], STRIPE_SOURCES.connect)}`,
    ...(stripe ? [`frame-src ${STRIPE_SOURCES.frame.join(' ')}`] : []),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
}

/** Every header but the Content-Security-Policy (src/middleware.ts sets that one).
 * @returns {{ key: string, value: string }[]} */
export function securityHeaders() {
  return [
    { key: 'X-Frame-Options', value: 'DENY' },
    { key: 'X-Content-Type-Options', value: 'nosniff' },
    { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
    { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
  ];
}
