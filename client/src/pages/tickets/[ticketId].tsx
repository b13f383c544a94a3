import Head from 'next/head';
import Link from 'next/link';
import { useRouter } from 'next/router';
import { ErrorList } from '@/components/ErrorList';
import { formatPrice } from '@/lib/money';
import { withSession, type SessionProps } from '@/lib/server/session';
import type { Order, Ticket } from '@/lib/types';
import { useRequest } from '@/lib/use-request';

type Props = SessionProps & { ticket: Ticket };

export const getServerSideProps = withSession<{ ticket: Ticket }>(async (ctx, { api }) => ({
  props: { ticket: await api.get<Ticket>(`/api/tickets/${encodeURIComponent(String(ctx.params?.ticketId))}`) },
}));

export default function TicketPage({ ticket, currentUser }: Props) {
  const router = useRouter();
  const { doRequest, errors, inFlight } = useRequest<Order>({
    path: '/api/orders',
    method: 'POST',
    onSuccess: (order) => router.push(`/orders/${order.id}`),
  });

  return (
    <>
      <Head>
        <title>{`${ticket.title} · Ticketing`}</title>
      </Head>
      <article className="card ticket">
        <h1>{ticket.title}</h1>
        <p className="price" data-testid="price">
          {formatPrice(ticket.price)}
        </p>
        {ticket.orderId && <p className="note">This ticket is reserved by a buyer right now.</p>}
        {currentUser ? (
          <>
            <ErrorList errors={errors} title="Could not purchase" />
            <button
              type="button"
              className="button primary"
              disabled={inFlight}
              onClick={() => void doRequest({ ticketId: ticket.id })}
            >
              {inFlight ? 'Reserving…' : 'Purchase'}
            </button>
          </>
        ) : (
          <p>
            <Link href={`/auth/signin?next=${encodeURIComponent(`/tickets/${ticket.id}`)}`}>Sign in</Link> to
            purchase this ticket.
          </p>
        )}
      </article>
    </>
  );
}
