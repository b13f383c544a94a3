import Head from 'next/head';
import Link from 'next/link';
import { useRouter } from 'next/router';
import { useEffect, useRef } from 'react';
import { MoreButton } from '@/components/MoreButton';
import { StatusBadge } from '@/components/StatusBadge';
import { formatPrice } from '@/lib/money';
import { withSession, type SessionProps } from '@/lib/server/session';
import type { Order } from '@/lib/types';
import { usePagedList } from '@/lib/use-paged-list';

const ORDERS = '/api/orders';
const CONFIRM_POLL_MS = 1000;
const CONFIRM_POLL_LIMIT = 30;

type PageProps = {
  orders: Order[];
  nextCursor: string | null;
  /** The order just paid (`?paid=`), when it is not on the first page (oldest first). */
  paidOrder: Order | null;
};

export const getServerSideProps = withSession<PageProps>(
  async (ctx, { api }) => {
    const first = await api.page<Order>(ORDERS);
    const paidId = typeof ctx.query.paid === 'string' ? ctx.query.paid : null;
    let paidOrder: Order | null = null;
    if (paidId && /^[0-9a-f]{24}$/.test(paidId) && !first.items.some((o) => o.id === paidId)) {
      // Only for the "confirming" note; the list itself does not depend on it.
      paidOrder = await api.get<Order>(`${ORDERS}/${paidId}`).catch(() => null);
    }
    return { props: { orders: first.items, nextCursor: first.nextCursor, paidOrder } };
  },
  { requireUser: true },
);

export default function Orders({ orders: firstPage, nextCursor, paidOrder }: PageProps & SessionProps) {
  const router = useRouter();
  const list = usePagedList(ORDERS, firstPage, nextCursor);
  const orders = list.items;
  const paidId = typeof router.query.paid === 'string' ? router.query.paid : null;
  const paid = paidId
    ? (orders.find((o) => o.id === paidId) ?? (paidOrder?.id === paidId ? paidOrder : undefined))
    : undefined;
  // A payment is confirmed by an event (payments → orders), a moment after the charge: re-render
  // from the server until the order just paid leaves `created`, for a bounded time.
  const confirming = paid?.status === 'created';
  const polls = useRef(0);
  useEffect(() => {
    if (!confirming || polls.current >= CONFIRM_POLL_LIMIT) return;
    const timer = setTimeout(() => {
      polls.current += 1;
      void router.replace(router.asPath, undefined, { scroll: false });
    }, CONFIRM_POLL_MS);
    return () => clearTimeout(timer);
  }, [confirming, firstPage, paidOrder, router]);

  return (
    <>
      <Head>
        <title>My orders · Ticketing</title>
      </Head>
      <h1>My orders</h1>
      {confirming && (
        <p className="note" role="status">
          {polls.current < CONFIRM_POLL_LIMIT
            ? 'Payment received; confirming your order…'
            : 'Payment received; the order will show as complete shortly (reload to check).'}
        </p>
      )}
      {orders.length === 0 ? (
        <p className="empty">
          No orders yet. <Link href="/">Find a ticket</Link>
        </p>
      ) : (
        <table className="table" data-testid="orders">
          <thead>
            <tr>
              <th>Ticket</th>
              <th className="num">Price</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <tr key={order.id} data-order-id={order.id}>
                <td>
                  <Link href={`/orders/${order.id}`}>{order.ticket.title}</Link>
                </td>
                <td className="num">{formatPrice(order.ticket.price)}</td>
                <td>
                  <StatusBadge status={order.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton
        label="More orders"
        hasMore={list.nextCursor !== null}
        inFlight={list.inFlight}
        errors={list.errors}
        onMore={list.more}
      />
    </>
  );
}
