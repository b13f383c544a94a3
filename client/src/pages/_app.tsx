import type { AppProps } from 'next/app';
import Head from 'next/head';
import { Header } from '@/components/Header';
import type { CurrentUser } from '@/lib/types';
import '@/styles/globals.css';

// Every page's getServerSideProps (withSession) puts `currentUser` into its props, so the header
// is right on the server-rendered first paint, and again after each client-side navigation.
export default function App({ Component, pageProps }: AppProps<{ currentUser?: CurrentUser | null }>) {
  const currentUser = pageProps.currentUser;
  return (
    <>
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <title>Ticketing</title>
      </Head>
      <Header currentUser={currentUser} />
      <main className="container">
        <Component {...pageProps} />
      </main>
    </>
  );
}
