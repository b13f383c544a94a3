import Head from 'next/head';
import Link from 'next/link';
import { AuthForm } from '@/components/AuthForm';
import { safeNextPath, withSession } from '@/lib/server/session';

export const getServerSideProps = withSession<{ next: string }>((ctx, { currentUser }) => {
  const next = safeNextPath(ctx.query.next) ?? '/';
  return currentUser ? { redirect: { destination: next, permanent: false } } : { props: { next } };
});

export default function SignIn({ next }: { next: string }) {
  return (
    <>
      <Head>
        <title>Sign in · Ticketing</title>
      </Head>
      <AuthForm mode="signin" next={next} />
      <p className="aside">
        New here? <Link href={`/auth/signup?next=${encodeURIComponent(next)}`}>Sign up</Link>
      </p>
    </>
  );
}
