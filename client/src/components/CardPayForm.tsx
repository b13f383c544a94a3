// The order page's pay form when card payments are on (STRIPE_PUBLISHABLE_KEY): Stripe's own card
// field (Elements), loaded from js.stripe.com as Stripe requires, so the card number goes from the
// browser to Stripe and never through our servers. Paying opens the order's PaymentIntent at the
// payments service and lets Stripe.js confirm it, 3-D Secure challenge included; then the page
// says "processing" until the webhook has recorded the payment and the order is complete
// (src/lib/card-payment.ts), and re-renders with the confirmation.
import { CardElement, Elements, useElements, useStripe } from '@stripe/react-stripe-js';
import type { Stripe } from '@stripe/stripe-js';
import { loadStripe } from '@stripe/stripe-js/pure';
import Link from 'next/link';
import { useRouter } from 'next/router';
import { useEffect, useRef, useState } from 'react';
import { ErrorList } from '@/components/ErrorList';
import {
  createCardPayment,
  type CardPaymentDeps,
  type CardPaymentState,
  type OpenedIntent,
} from '@/lib/card-payment';
import { formatPrice } from '@/lib/money';
import { request } from '@/lib/request';
import type { Order } from '@/lib/types';

// loadStripe adds Stripe's script once per page; one Stripe instance per key.
const stripes = new Map<string, Promise<Stripe | null>>();
function stripeFor(publishableKey: string): Promise<Stripe | null> {
  let stripe = stripes.get(publishableKey);
  if (!stripe) {
    stripe = loadStripe(publishableKey);
    // A failed load may be retried on the next render of the form.
    stripe.catch(() => stripes.delete(publishableKey));
    stripes.set(publishableKey, stripe);
  }
  return stripe;
}

const LOAD_FAILED = 'The card form could not be loaded; check your connection and reload the page';

export function CardPayForm({ order, publishableKey }: { order: Order; publishableKey: string }) {
  // Only in the browser (Stripe.js has no server side), after the first render.
  const [stripe, setStripe] = useState<Promise<Stripe | null> | null>(null);
  const [loadError, setLoadError] = useState(false);
  useEffect(() => {
    const loading = stripeFor(publishableKey);
    loading.catch(() => setLoadError(true));
    setStripe(loading);
  }, [publishableKey]);
  return (
    <Elements stripe={stripe}>
      <CardForm order={order} loadError={loadError} />
    </Elements>
  );
}

function CardForm({ order, loadError }: { order: Order; loadError: boolean }) {
  const stripe = useStripe();
  const elements = useElements();
  const router = useRouter();
  const [state, setState] = useState<CardPaymentState>({ phase: 'ready', errors: null });
  const [cardReady, setCardReady] = useState(false);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const flowRef = useRef<ReturnType<typeof createCardPayment> | null>(null);
  const depsRef = useRef<CardPaymentDeps | null>(null);
  depsRef.current = {
    openIntent: (orderId) =>
      request<OpenedIntent>('/api/payments/intents', { method: 'POST', body: { orderId } }),
    confirm: async (clientSecret) => {
      const card = elements?.getElement(CardElement);
      if (!stripe || !card) return { error: { message: LOAD_FAILED } };
      return stripe.confirmCardPayment(clientSecret, { payment_method: { card } });
    },
    orderStatus: async (orderId) =>
      (await request<Order>(`/api/orders/${encodeURIComponent(orderId)}`)).status,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  if (flowRef.current === null) {
    const deps: CardPaymentDeps = {
      openIntent: (id) => depsRef.current!.openIntent(id),
      confirm: (secret) => depsRef.current!.confirm(secret),
      orderStatus: (id) => depsRef.current!.orderStatus(id),
      wait: (ms) => depsRef.current!.wait(ms),
    };
    flowRef.current = createCardPayment(order.id, deps, (next) => {
      if (!mounted.current) return;
      setState(next);
      // The order is paid: render the page again from the server, with its confirmation.
      if (next.phase === 'complete') void router.replace(router.asPath, undefined, { scroll: false });
    });
  }
  const flow = flowRef.current;

  if (state.phase === 'processing' || state.phase === 'complete' || state.phase === 'slow') {
    return (
      <div className="pay processing" data-testid="payment-processing" role="status" aria-live="polite">
        <p className="note">
          <strong>Processing your payment…</strong> Stripe has your card payment; this page shows the
          confirmation as soon as the order is complete.
        </p>
        {state.phase === 'slow' && (
          <p className="note">
            This is taking longer than usual. <Link href="/orders">See your orders</Link> in a moment.
          </p>
        )}
      </div>
    );
  }
  if (state.phase === 'cancelled') {
    return (
      <p className="expired" data-testid="payment-refunded" role="alert">
        The order was cancelled before your payment arrived; the payment is refunded.
      </p>
    );
  }

  const busy = state.phase === 'paying';
  return (
    <form
      className="pay"
      aria-busy={busy}
      data-testid="card-form"
      onSubmit={(event) => {
        event.preventDefault();
        void flow.pay();
      }}
    >
      <label className="card-label">
        Card
        <div className="card-field">
          <CardElement
            options={{ style: { base: { fontSize: '16px' } } }}
            onReady={() => setCardReady(true)}
          />
        </div>
      </label>
      <p className="note">Card details go straight to Stripe; they never reach our servers.</p>
      <ErrorList errors={loadError ? [{ message: LOAD_FAILED }] : state.errors} title="Payment failed" />
      <button type="submit" className="button primary" disabled={busy || !stripe || !cardReady}>
        {busy ? 'Paying…' : `Pay ${formatPrice(order.ticket.price)}`}
      </button>
    </form>
  );
}
