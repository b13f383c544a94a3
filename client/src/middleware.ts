// The Content-Security-Policy of every response (src/lib/security-headers.mjs says what it
// allows). Set here rather than in next.config.mjs, whose headers are fixed when the app is
// built: whether Stripe.js may load depends on STRIPE_PUBLISHABLE_KEY, read at request time like
// all of this app's configuration, so one build serves test mode and card payments. Every page
// gets the same policy: a client-side navigation to an order page keeps the policy of the page
// the visitor first loaded.
import { NextResponse } from 'next/server';
import { contentSecurityPolicy } from '@/lib/security-headers.mjs';
import { stripePublishableKey } from '@/lib/server/config';

export function middleware() {
  const response = NextResponse.next();
  response.headers.set(
    'Content-Security-Policy',
    contentSecurityPolicy(process.env.NODE_ENV === 'development', { stripe: stripePublishableKey() !== undefined }),
  );
  return response;
}

export const config = {
  // Node.js, not the edge runtime: it reads the server's environment as it is now.
  runtime: 'nodejs',
};
