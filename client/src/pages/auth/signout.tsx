import Head from 'next/head';
import { useRouter } from 'next/router';
import { useEffect } from 'react';
import { ErrorList } from '@/components/ErrorList';
import { withSession } from '@/lib/server/session';
import { useRequest } from '@/lib/use-request';

// Signing out is a POST (the cookie is cleared by auth's answer), made from the browser once the
// page is shown, so a link or a prefetch can never sign anyone out by itself.
export const getServerSideProps = withSession();

export default function SignOut() {
  const router = useRouter();
  const { doRequest, errors } = useRequest({
    path: '/api/users/signout',
    method: 'POST',
    onSuccess: () => router.replace('/'),
  });
  useEffect(() => {
    void doRequest({});
  }, [doRequest]);

  return (
    <>
      <Head>
        <title>Signing out · Ticketing</title>
      </Head>
      <div className="card">
        <h1>Signing you out…</h1>
        <ErrorList errors={errors} title="Could not sign you out" />
      </div>
    </>
  );
}
