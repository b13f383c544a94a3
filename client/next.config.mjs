// Next.js configuration. Everything that differs between a laptop and Kubernetes is read at
// request time from the environment (see src/lib/config.ts), so one build serves both.

import { securityHeaders } from './src/lib/security-headers.mjs';

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The container image (Dockerfile) sets NEXT_STANDALONE=1 to get a self-contained server.js;
  // scripts/client.sh runs the ordinary `next start`.
  output: process.env.NEXT_STANDALONE === '1' ? 'standalone' : undefined,
  // No ESLint in this project's minimal dependency set; `next build` still type-checks.
  eslint: { ignoreDuringBuilds: true },
  // The Content-Security-Policy is set per request by src/middleware.ts (it allows Stripe.js
  // only when STRIPE_PUBLISHABLE_KEY is set, read at request time); these never change.
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders() }];
  },
  async rewrites() {
    // Liveness for scripts/client.sh and Kubernetes probes. It lives outside /api on purpose:
    // the ingress sends /api/* to the services.
    // The API's readable reference (src/pages/api-docs.tsx) lives beside its document,
    // /api/docs/openapi.json (a static file, client/public): the ingress sends /api/docs here.
    return [
      { source: '/healthz', destination: '/api/healthz' },
      { source: '/api/docs', destination: '/api-docs' },
    ];
  },
};

export default nextConfig;
