import Head from 'next/head';
import Link from 'next/link';

export default function ServerError() {
  return (
    <>
      <Head>
        <title>Something went wrong · Ticketing</title>
      </Head>
      <div className="card">
        <h1>Something went wrong</h1>
        <p>
          A service did not answer; please try again in a moment. <Link href="/">Back to the tickets</Link>
        </p>
      </div>
    </>
  );
}
