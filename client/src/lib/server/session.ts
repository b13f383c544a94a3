// Server-side rendering with the visitor's session: every page's getServerSideProps goes through
// withSession, which calls the API through the ingress *as the browser*, forwarding its cookie,
// and knows the current user before the first byte of HTML is sent.
import type { GetServerSideProps, GetServerSidePropsContext, GetServerSidePropsResult } from 'next';
import type { ServerResponse } from 'node:http';
import { pageOf, pagePath, type Page } from '../pagination';
import { RequestError, send, type Method } from '../request';
import type { CurrentUser } from '../types';
import { serverConfig } from './config';
import { nodeTransport } from './transport';

export type { CurrentUser };

export interface SessionProps {
  currentUser: CurrentUser | null;
}

export interface ServerApi {
  get<T>(path: string): Promise<T>;
  call<T>(method: Method, path: string, body?: unknown): Promise<T>;
  /** One page of a list endpoint (the first without a cursor) and the cursor of the next. */
  page<T>(path: string, cursor?: string | null): Promise<Page<T>>;
}

/** Adds cookies the API set (the session it re-issues past half its life) to the page's response. */
function relayCookies(res: ServerResponse, cookies: string[]) {
  if (cookies.length === 0 || res.headersSent) return;
  const existing = res.getHeader('set-cookie');
  const current = Array.isArray(existing) ? existing : existing ? [String(existing)] : [];
  res.setHeader('set-cookie', [...current, ...cookies]);
}

/** The API as the visitor: their cookie goes out, cookies set by the API come back to them. */
export function serverApi(ctx: Pick<GetServerSidePropsContext, 'req' | 'res'>): ServerApi {
  const config = serverConfig();
  const transport = nodeTransport({ host: config.apiHost, timeoutMs: config.apiTimeoutMs });
  const headers: Record<string, string> = {};
  const cookie = ctx.req.headers.cookie;
  if (cookie) headers.cookie = cookie;

  const sendAs = async <T>(method: Method, path: string, body?: unknown) => {
    const res = await send<T>(path, { method, body, headers, baseUrl: config.apiBaseUrl, transport });
    relayCookies(ctx.res, res.setCookies);
    return res;
  };
  const call = async <T>(method: Method, path: string, body?: unknown): Promise<T> =>
    (await sendAs<T>(method, path, body)).data;
  return {
    call,
    get: (path) => call('GET', path),
    page: async <T>(path: string, cursor?: string | null) =>
      pageOf<T>(await sendAs<unknown>('GET', pagePath(path, cursor ?? null))),
  };
}

/** `{currentUser}` from the auth service; an unreachable auth service renders the page signed out. */
export async function fetchCurrentUser(api: ServerApi): Promise<CurrentUser | null> {
  try {
    const body = await api.get<{ currentUser: (CurrentUser & Record<string, unknown>) | null }>(
      '/api/users/currentuser',
    );
    const user = body?.currentUser;
    return user ? { id: String(user.id), email: String(user.email) } : null;
  } catch (err) {
    console.error('currentuser failed; rendering signed out:', err instanceof Error ? err.message : err);
    return null;
  }
}

/** Only same-site paths may be a sign-in's destination. */
export function safeNextPath(value: unknown): string | null {
  // Browsers drop tabs and newlines from URLs ("/\t/evil.example" becomes "//evil.example"), and
  // read a backslash as a slash: none of them may appear.
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    value.startsWith('//') ||
    value.includes('\\') ||
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    return null;
  }
  return value;
}

export interface SessionContext {
  currentUser: CurrentUser | null;
  api: ServerApi;
}

type Handler<P> = (
  ctx: GetServerSidePropsContext,
  session: SessionContext,
) => Promise<GetServerSidePropsResult<P>> | GetServerSidePropsResult<P>;

/**
 * getServerSideProps with the session: adds `currentUser` to the page's props. With
 * `requireUser`, a visitor who is not signed in is sent to /auth/signin and back afterwards.
 * An API answer of 404 renders the 404 page; 401 (someone else's order) does too.
 */
export function withSession<P extends Record<string, unknown> = Record<string, never>>(
  handler?: Handler<P>,
  options: { requireUser?: boolean } = {},
): GetServerSideProps<P & SessionProps> {
  return async (ctx) => {
    const api = serverApi(ctx);
    const currentUser = await fetchCurrentUser(api);
    if (options.requireUser && !currentUser) {
      const next = safeNextPath(ctx.resolvedUrl);
      return {
        redirect: {
          destination: `/auth/signin${next ? `?next=${encodeURIComponent(next)}` : ''}`,
          permanent: false,
        },
      };
    }
    if (!handler) return { props: { currentUser } as P & SessionProps };
    try {
      const result = await handler(ctx, { currentUser, api });
      if ('props' in result) {
        const props = await result.props;
        return { ...result, props: { ...props, currentUser } };
      }
      return result;
    } catch (err) {
      if (err instanceof RequestError && (err.status === 404 || err.status === 401)) {
        return { notFound: true };
      }
      throw err;
    }
  };
}
