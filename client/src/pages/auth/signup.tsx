import Head from 'next/head';
import Link from 'next/link';
import { AuthForm } from '@/components/AuthForm';
import { safeNextPath, withSession } from '@/lib/server/session';

export const getServerSideProps = withSession<{ next: string }>((ctx, { currentUser }) => {
  const next = safeNextPath(ctx.query.next) ?? '/';
  return currentUser ? { redirect: { destination: next, permanent: false } } : { props: { next } };
});

export default function SignUp({ next }: { next: string }) {
  return (
    <>
      <Head>
        <title>Sign up · Ticketing</title>
      </Head>
      <AuthForm mode="signup" next={next} />
      <p className="aside">
        Have an account? <Link href={`/auth/signin?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </>
  );
}
