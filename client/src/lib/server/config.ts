// Server-side configuration, read from the environment at request time (never inlined into the
// build), so one image runs on a laptop and in Kubernetes.
//
//   API_BASE_URL       where server-side rendering calls the API: the ingress. Default
//                      http://127.0.0.1:8080 (the local nginx); in Kubernetes
//                      http://ingress-nginx-controller.ingress-nginx.svc.cluster.local
//   API_HOST           Host header for those calls, when the ingress routes by host (ticketing.dev
//                      in Kubernetes). Unset: the host of API_BASE_URL.
//   API_TIMEOUT_MS     per server-side call (default 10000)
//   STRIPE_TEST_TOKEN  the Stripe test token the pay form sends (default tok_visa); see README.md
//   STRIPE_PUBLISHABLE_KEY  Stripe's publishable key (pk_test_… / pk_live_…): the order page shows
//                      Stripe's card form instead of the test-mode pay button; see README.md

export interface ServerConfig {
  apiBaseUrl: string;
  apiHost?: string;
  apiTimeoutMs: number;
  stripeTestToken: string;
  /** Set: card payments with Stripe Elements. Unset: test mode. */
  stripePublishableKey?: string;
}

/**
 * The publishable key when it looks like one (`pk_test_…` or `pk_live_…`); anything else counts as
 * unset, with a warning, so a typo shows test mode rather than a card form Stripe would refuse.
 * Read by the pages and by the middleware that allows Stripe.js in the Content-Security-Policy.
 */
export function stripePublishableKey(env: Record<string, string | undefined> = process.env): string | undefined {
  const key = env.STRIPE_PUBLISHABLE_KEY?.trim();
  if (!key) return undefined;
  if (!/^pk_(test|live)_[A-Za-z0-9]+$/.test(key)) {
    if (!warnedAboutKey) {
      warnedAboutKey = true;
      console.warn('STRIPE_PUBLISHABLE_KEY is not a Stripe publishable key (pk_test_… or pk_live_…): card payments are off');
    }
    return undefined;
  }
  return key;
}

let warnedAboutKey = false;

export function serverConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const timeout = Number(env.API_TIMEOUT_MS);
  return {
    apiBaseUrl: (env.API_BASE_URL?.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    apiHost: env.API_HOST?.trim() || undefined,
    apiTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    stripeTestToken: env.STRIPE_TEST_TOKEN?.trim() || 'tok_visa',
    stripePublishableKey: stripePublishableKey(env),
  };
}
