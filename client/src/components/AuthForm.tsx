import { useRouter } from 'next/router';
import { useState, type FormEvent } from 'react';
import { useRequest } from '@/lib/use-request';
import { ErrorList } from './ErrorList';

/** Sign-up and sign-in share one form; they differ in endpoint and wording. */
export function AuthForm({ mode, next }: { mode: 'signup' | 'signin'; next: string }) {
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { doRequest, errors, inFlight } = useRequest({
    path: `/api/users/${mode}`,
    method: 'POST',
    onSuccess: () => router.push(next),
  });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    await doRequest({ email, password });
  };

  const title = mode === 'signup' ? 'Sign up' : 'Sign in';
  return (
    <form className="card form" onSubmit={onSubmit} noValidate aria-busy={inFlight}>
      <h1>{title}</h1>
      <label>
        Email address
        <input
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <ErrorList errors={errors} />
      <button type="submit" className="button primary" disabled={inFlight}>
        {inFlight ? `${title}…` : title}
      </button>
    </form>
  );
}
