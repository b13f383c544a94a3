import Head from 'next/head';
import { useRouter } from 'next/router';
import { useState, type FormEvent } from 'react';
import { ErrorList } from '@/components/ErrorList';
import { formatPriceInput, priceForApi } from '@/lib/money';
import { withSession } from '@/lib/server/session';
import type { Ticket } from '@/lib/types';
import { useRequest } from '@/lib/use-request';

export const getServerSideProps = withSession(undefined, { requireUser: true });

export default function NewTicket() {
  const router = useRouter();
  const [title, setTitle] = useState('');
  const [price, setPrice] = useState('');
  const { doRequest, errors, inFlight } = useRequest<Ticket>({
    path: '/api/tickets',
    method: 'POST',
    onSuccess: () => router.push('/'),
  });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    await doRequest({ title, price: priceForApi(price) });
  };

  return (
    <>
      <Head>
        <title>Sell a ticket · Ticketing</title>
      </Head>
      <form className="card form" onSubmit={onSubmit} noValidate aria-busy={inFlight}>
        <h1>Sell a ticket</h1>
        <label>
          Title
          <input name="title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
        </label>
        <label>
          Price (USD)
          <input
            name="price"
            inputMode="decimal"
            placeholder="0.00"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            onBlur={() => setPrice(formatPriceInput(price))}
          />
        </label>
        <ErrorList errors={errors} />
        <button type="submit" className="button primary" disabled={inFlight}>
          {inFlight ? 'Listing…' : 'List ticket'}
        </button>
      </form>
    </>
  );
}
