import Head from 'next/head';
import Link from 'next/link';
import { formatPrice } from '@/lib/money';
import { withSession, type SessionProps } from '@/lib/server/session';
import type { Ticket } from '@/lib/types';

type Props = SessionProps & { tickets: Ticket[] };

export const getServerSideProps = withSession<{ tickets: Ticket[] }>(async (_ctx, { api }) => ({
  props: { tickets: await api.get<Ticket[]>('/api/tickets') },
}));

export default function Home({ tickets, currentUser }: Props) {
  return (
    <>
      <Head>
        <title>Tickets for sale · Ticketing</title>
      </Head>
      <div className="page-title">
        <h1>Tickets for sale</h1>
        {currentUser && (
          <Link href="/tickets/new" className="button primary">
            Sell a ticket
          </Link>
        )}
      </div>
      {tickets.length === 0 ? (
        <p className="empty">No tickets for sale right now.</p>
      ) : (
        <table className="table" data-testid="tickets">
          <thead>
            <tr>
              <th>Title</th>
              <th className="num">Price</th>
              <th>
                <span className="sr-only">Link</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tickets.map((ticket) => (
              <tr key={ticket.id} data-ticket-id={ticket.id}>
                <td>{ticket.title}</td>
                <td className="num">{formatPrice(ticket.price)}</td>
                <td className="num">
                  <Link href={`/tickets/${ticket.id}`} aria-label={`View ${ticket.title}`}>
                    View
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
