import Head from 'next/head';
import Link from 'next/link';
import { useRouter } from 'next/router';
import { CardPayForm } from '@/components/CardPayForm';
import { ErrorList } from '@/components/ErrorList';
import { StatusBadge } from '@/components/StatusBadge';
import { formatDuration } from '@/lib/countdown';
import { formatPrice } from '@/lib/money';
import { serverConfig } from '@/lib/server/config';
import { withSession, type SessionProps } from '@/lib/server/session';
import type { Order } from '@/lib/types';
import { useCountdown } from '@/lib/use-countdown';
import { useRequest } from '@/lib/use-request';

/** How the order is paid: Stripe's card form, or the test token (README.md, "Payments"). */
type Payment = { mode: 'card'; publishableKey: string } | { mode: 'test'; token: string };

type PageProps = {
  order: Order;
  renderedAt: number;
  payment: Payment;
};

function paymentMode(): Payment {
  const config = serverConfig();
  return config.stripePublishableKey
    ? { mode: 'card', publishableKey: config.stripePublishableKey }
    : { mode: 'test', token: config.stripeTestToken };
}

export const getServerSideProps = withSession<PageProps>(
  async (ctx, { api }) => ({
    props: {
      order: await api.get<Order>(`/api/orders/${encodeURIComponent(String(ctx.params?.orderId))}`),
      renderedAt: Date.now(),
      payment: paymentMode(),
    },
  }),
  { requireUser: true },
);

/** Test mode: pays with a Stripe test token through the token route. */
function TestPayForm({ order, paymentToken }: { order: Order; paymentToken: string }) {
  const router = useRouter();
  const { doRequest, errors, inFlight } = useRequest<{ id: string }>({
    path: '/api/payments',
    method: 'POST',
    onSuccess: () => router.push(`/orders?paid=${encodeURIComponent(order.id)}`),
  });
  return (
    <form
      className="pay"
      aria-busy={inFlight}
      onSubmit={(event) => {
        event.preventDefault();
        void doRequest({ orderId: order.id, token: paymentToken });
      }}
    >
      <p className="note test-mode">
        Test mode: paying sends the Stripe test token <code>{paymentToken}</code> (no card is charged).
      </p>
      <ErrorList errors={errors} title="Payment failed" />
      <button type="submit" className="button primary" disabled={inFlight}>
        {inFlight ? 'Paying…' : `Pay ${formatPrice(order.ticket.price)}`}
      </button>
    </form>
  );
}

export default function OrderPage({ order, renderedAt, payment }: PageProps & SessionProps) {
  const left = useCountdown(order.expiresAt, renderedAt);
  // Past its expiry an unpaid order is gone, whether or not the expiration event has landed yet.
  const expired = order.status !== 'complete' && left === 0;
  const cancelled = order.status === 'cancelled' && !expired;

  return (
    <>
      <Head>
        <title>{`Order for ${order.ticket.title} · Ticketing`}</title>
      </Head>
      <article className="card order">
        <h1>{order.ticket.title}</h1>
        <p className="price">{formatPrice(order.ticket.price)}</p>
        <p>
          Status: <StatusBadge status={order.status} />
        </p>
        {order.status === 'complete' && (
          <p className="success">
            Paid — the ticket is yours. <Link href="/orders">See your orders</Link>
          </p>
        )}
        {expired && (
          <p className="expired" data-testid="expired">
            Order expired
          </p>
        )}
        {cancelled && (
          <p className="expired" data-testid="cancelled">
            Order cancelled
          </p>
        )}
        {!expired && order.status === 'created' && (
          <>
            <p className="countdown" data-testid="countdown" aria-live="off">
              Time left to pay: <strong>{formatDuration(left)}</strong>
            </p>
            {payment.mode === 'card' ? (
              <CardPayForm order={order} publishableKey={payment.publishableKey} />
            ) : (
              <TestPayForm order={order} paymentToken={payment.token} />
            )}
          </>
        )}
      </article>
    </>
  );
}
