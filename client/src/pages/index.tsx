import Head from 'next/head';
import Link from 'next/link';
import { MoreButton } from '@/components/MoreButton';
import { formatPrice } from '@/lib/money';
import { withSession, type SessionProps } from '@/lib/server/session';
import type { Ticket } from '@/lib/types';
import { usePagedList } from '@/lib/use-paged-list';

const TICKETS = '/api/tickets';

type PageProps = { tickets: Ticket[]; nextCursor: string | null };
type Props = SessionProps & PageProps;

// The first page is rendered on the server; "More tickets" appends the next ones in the browser.
export const getServerSideProps = withSession<PageProps>(async (_ctx, { api }) => {
  const first = await api.page<Ticket>(TICKETS);
  return { props: { tickets: first.items, nextCursor: first.nextCursor } };
});

export default function Home({ tickets: firstPage, nextCursor, currentUser }: Props) {
  const list = usePagedList(TICKETS, firstPage, nextCursor);
  const tickets = list.items;
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
      <MoreButton
        label="More tickets"
        hasMore={list.nextCursor !== null}
        inFlight={list.inFlight}
        errors={list.errors}
        onMore={list.more}
      />
    </>
  );
}
