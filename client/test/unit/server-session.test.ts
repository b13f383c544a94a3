// Server-side rendering's half of the session: the visitor's cookie goes to the API through the
// configured ingress address (and Host), the API's cookies come back. A local HTTP server plays
// the ingress.
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { GetServerSidePropsContext } from 'next';
import { serverConfig } from '../../src/lib/server/config';
import { safeNextPath, withSession } from '../../src/lib/server/session';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

let server: http.Server;
let base = '';
const seen: Seen[] = [];
let signedIn = true;

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/users/currentuser') {
      if (signedIn) res.setHeader('set-cookie', 'session=fresh; Path=/; HttpOnly; SameSite=Lax');
      res.end(JSON.stringify({ currentUser: signedIn ? { id: 'u1', email: 'b@example.com', iat: 1, exp: 2 } : null }));
    } else if (req.url === '/api/tickets/t1') {
      res.end(JSON.stringify({ id: 't1', title: 'Show', price: 25.5, userId: 'u2', version: 0 }));
    } else if (req.url === '/api/tickets') {
      res.setHeader('link', '</api/tickets?cursor=Y3Vy&limit=50>; rel="next"');
      res.setHeader('x-next-cursor', 'Y3Vy');
      res.end(JSON.stringify([{ id: 't1' }]));
    } else if (req.url === '/api/tickets?cursor=Y3Vy') {
      res.end(JSON.stringify([{ id: 't2' }]));
    } else if (req.url === '/api/boom') {
      res.statusCode = 500;
      res.end(JSON.stringify({ errors: [{ message: 'Something went wrong' }] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ errors: [{ message: 'Not Found' }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
  signedIn = true;
  process.env.API_BASE_URL = `${base}/`;
  delete process.env.API_HOST;
});

function fakeContext(cookie: string | undefined, resolvedUrl = '/', params: Record<string, string> = {}) {
  const headers = new Map<string, unknown>();
  const res = {
    headersSent: false,
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: unknown) => void headers.set(name.toLowerCase(), value),
  };
  const ctx = {
    req: { headers: cookie ? { cookie } : {} },
    res,
    query: {},
    params,
    resolvedUrl,
  } as unknown as GetServerSidePropsContext;
  return { ctx, responseHeaders: headers };
}

describe('serverConfig()', () => {
  it('defaults to the local ingress and tok_visa; reads the environment at call time', () => {
    assert.deepEqual(serverConfig({}), {
      apiBaseUrl: 'http://127.0.0.1:8080',
      apiHost: undefined,
      apiTimeoutMs: 10_000,
      stripeTestToken: 'tok_visa',
      stripePublishableKey: undefined,
    });
    assert.deepEqual(
      serverConfig({
        API_BASE_URL: 'http://ingress-nginx-controller.ingress-nginx.svc.cluster.local/',
        API_HOST: 'ticketing.dev',
        API_TIMEOUT_MS: '2500',
        STRIPE_TEST_TOKEN: 'tok_mastercard',
        STRIPE_PUBLISHABLE_KEY: 'pk_live_51Xyz',
      }),
      {
        apiBaseUrl: 'http://ingress-nginx-controller.ingress-nginx.svc.cluster.local',
        apiHost: 'ticketing.dev',
        apiTimeoutMs: 2500,
        stripeTestToken: 'tok_mastercard',
        stripePublishableKey: 'pk_live_51Xyz',
      },
    );
  });
});

describe('withSession()', () => {
  it("forwards the browser's cookie, knows the user, and relays the API's Set-Cookie", async () => {
    const { ctx, responseHeaders } = fakeContext('session=old; other=1');
    const gssp = withSession<{ title: string }>(async (c, { api }) => ({
      props: { title: (await api.get<{ title: string }>(`/api/tickets/${c.params?.ticketId}`)).title },
    }));
    (ctx as { params: Record<string, string> }).params = { ticketId: 't1' };
    const result = await gssp(ctx);
    assert.deepEqual(result, { props: { title: 'Show', currentUser: { id: 'u1', email: 'b@example.com' } } });
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers.cookie]),
      [
        ['GET', '/api/users/currentuser', 'session=old; other=1'],
        ['GET', '/api/tickets/t1', 'session=old; other=1'],
      ],
    );
    assert.deepEqual(responseHeaders.get('set-cookie'), ['session=fresh; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('sends API_HOST as the Host header (the Kubernetes ingress routes by host)', async () => {
    process.env.API_HOST = 'ticketing.dev';
    const { ctx } = fakeContext('session=x');
    await withSession()(ctx);
    assert.equal(seen[0].headers.host, 'ticketing.dev');
    delete process.env.API_HOST;
    await withSession()(fakeContext('session=x').ctx);
    assert.equal(seen[1].headers.host, new URL(base).host);
  });

  it('renders signed out when there is no session, sending no cookie', async () => {
    signedIn = false;
    const { ctx, responseHeaders } = fakeContext(undefined);
    assert.deepEqual(await withSession()(ctx), { props: { currentUser: null } });
    assert.equal(seen[0].headers.cookie, undefined);
    assert.equal(responseHeaders.get('set-cookie'), undefined);
  });

  it('sends a visitor without a session to sign in, and back afterwards', async () => {
    signedIn = false;
    const { ctx } = fakeContext(undefined, '/orders/abc');
    const result = await withSession(async () => ({ props: {} }), { requireUser: true })(ctx);
    assert.deepEqual(result, { redirect: { destination: '/auth/signin?next=%2Forders%2Fabc', permanent: false } });
    assert.equal(seen.length, 1, 'the page itself made no API call');
  });

  it("reads a list a page at a time, the next page's cursor from the API's headers", async () => {
    const { ctx } = fakeContext('session=x');
    const gssp = withSession(async (_c, { api }) => {
      const first = await api.page<{ id: string }>('/api/tickets');
      const second = await api.page<{ id: string }>('/api/tickets', first.nextCursor);
      return { props: { first, second } };
    });
    assert.deepEqual(await gssp(ctx), {
      props: {
        first: { items: [{ id: 't1' }], nextCursor: 'Y3Vy' },
        second: { items: [{ id: 't2' }], nextCursor: null },
        currentUser: { id: 'u1', email: 'b@example.com' },
      },
    });
    assert.deepEqual(
      seen.slice(1).map((s) => s.url),
      ['/api/tickets', '/api/tickets?cursor=Y3Vy'],
    );
  });

  it('renders the 404 page when the API says 404, and lets other failures through', async () => {
    const { ctx } = fakeContext('session=x');
    assert.deepEqual(await withSession(async (_c, { api }) => ({ props: { t: await api.get('/api/tickets/nope') } }))(ctx), {
      notFound: true,
    });
    await assert.rejects(withSession(async (_c, { api }) => ({ props: { t: await api.get('/api/boom') } }))(ctx), /Something went wrong/);
  });

  it('renders signed out when auth cannot be reached', async () => {
    process.env.API_BASE_URL = 'http://127.0.0.1:9';
    const original = console.error;
    console.error = () => {};
    try {
      assert.deepEqual(await withSession()(fakeContext('session=x').ctx), { props: { currentUser: null } });
    } finally {
      console.error = original;
    }
  });
});

describe('safeNextPath()', () => {
  it('accepts only paths on this site', () => {
    assert.equal(safeNextPath('/orders/1'), '/orders/1');
    assert.equal(safeNextPath('//evil.example'), null);
    assert.equal(safeNextPath('https://evil.example'), null);
    assert.equal(safeNextPath('/\\evil.example'), null);
    assert.equal(safeNextPath('/\t/evil.example'), null);
    assert.equal(safeNextPath('/\n/evil.example'), null);
    assert.equal(safeNextPath(['/a']), null);
    assert.equal(safeNextPath(undefined), null);
  });
});
