import Head from 'next/head';
import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <Head>
        <title>Not found · Ticketing</title>
      </Head>
      <div className="card">
        <h1>Not found</h1>
        <p>
          There is nothing here. <Link href="/">Back to the tickets</Link>
        </p>
      </div>
    </>
  );
}
