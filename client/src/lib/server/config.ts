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

export interface ServerConfig {
  apiBaseUrl: string;
  apiHost?: string;
  apiTimeoutMs: number;
  stripeTestToken: string;
}

export function serverConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const timeout = Number(env.API_TIMEOUT_MS);
  return {
    apiBaseUrl: (env.API_BASE_URL?.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    apiHost: env.API_HOST?.trim() || undefined,
    apiTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    stripeTestToken: env.STRIPE_TEST_TOKEN?.trim() || 'tok_visa',
  };
}
