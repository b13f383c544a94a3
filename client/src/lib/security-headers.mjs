// The security headers of every page and asset of the web client (next.config.mjs `headers()`).
// Plain JavaScript: next.config.mjs imports it before any TypeScript is compiled.
//
// The production build (pages router) runs no inline script or style: every script and stylesheet
// is a file under /_next/static, and __NEXT_DATA__ is a JSON data block, which CSP does not treat
// as a script. So the policy allows this origin only. `next dev` needs eval and inline styles for
// hot reload, and a websocket back to itself.
// Strict-Transport-Security is added by the ingress that terminates TLS (ingress-nginx does for a
// host with a certificate); over the local plain-http ingress a browser would ignore it anyway.

/** @param {boolean} dev */
export function contentSecurityPolicy(dev) {
  const directives = [
    "default-src 'self'",
    dev ? "script-src 'self' 'unsafe-eval' 'unsafe-inline'" : "script-src 'self'",
    dev ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    dev ? "connect-src 'self' ws: wss:" : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
}

/** @param {boolean} dev @returns {{ key: string, value: string }[]} */
export function securityHeaders(dev) {
  return [
    { key: 'Content-Security-Policy', value: contentSecurityPolicy(dev) },
    { key: 'X-Frame-Options', value: 'DENY' },
    { key: 'X-Content-Type-Options', value: 'nosniff' },
    { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
    { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
  ];
}
