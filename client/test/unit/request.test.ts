import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GENERIC_ERROR,
  NETWORK_ERROR,
  RequestError,
  UNAVAILABLE_ERROR,
  errorsFromResponse,
  request,
  send,
  toApiErrors,
  type RawResponse,
  type Transport,
  type TransportInit,
} from '../../src/lib/request';

function fakeTransport(response: Partial<RawResponse>, seen: { url?: string; init?: TransportInit } = {}): Transport {
  return async (url, init) => {
    seen.url = url;
    seen.init = init;
    return { status: 200, contentType: 'application/json', text: '', setCookies: [], ...response };
  };
}

async function rejection(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

describe('request()', () => {
  it('sends JSON and resolves with the parsed body', async () => {
    const seen: { url?: string; init?: TransportInit } = {};
    const transport = fakeTransport({ status: 201, text: '{"id":"t1","title":"Show","price":25.5}' }, seen);
    const ticket = await request<{ id: string; price: number }>('/api/tickets', {
      method: 'POST',
      body: { title: 'Show', price: 25.5 },
      transport,
    });
    assert.deepEqual(ticket, { id: 't1', title: 'Show', price: 25.5 });
    assert.equal(seen.url, '/api/tickets', 'paths stay relative by default (the browser calls the ingress)');
    assert.equal(seen.init?.method, 'POST');
    assert.equal(seen.init?.headers['content-type'], 'application/json');
    assert.equal(seen.init?.body, '{"title":"Show","price":25.5}');
  });

  it('defaults to GET without a body or content type, and prefixes baseUrl', async () => {
    const seen: { url?: string; init?: TransportInit } = {};
    await request('/api/tickets', { baseUrl: 'http://ingress', transport: fakeTransport({ text: '[]' }, seen) });
    assert.equal(seen.url, 'http://ingress/api/tickets');
    assert.equal(seen.init?.method, 'GET');
    assert.equal(seen.init?.body, undefined);
    assert.equal(seen.init?.headers['content-type'], undefined);
    assert.equal(seen.init?.headers.accept, 'application/json');
  });

  it('resolves with undefined for 204 and empty bodies', async () => {
    assert.equal(await request('/api/orders/1', { method: 'DELETE', transport: fakeTransport({ status: 204 }) }), undefined);
    assert.equal(await request('/x', { transport: fakeTransport({ status: 200, text: '  ' }) }), undefined);
  });

  it("rejects with the service's own error list, fields included", async () => {
    const text = JSON.stringify({
      errors: [
        { message: 'Email must be valid', field: 'email' },
        { message: 'Password must be between 8 and 64 characters', field: 'password' },
      ],
    });
    const err = await rejection(request('/api/users/signup', { method: 'POST', body: {}, transport: fakeTransport({ status: 400, text }) }));
    assert.equal(err.status, 400);
    assert.deepEqual(err.errors, [
      { message: 'Email must be valid', field: 'email' },
      { message: 'Password must be between 8 and 64 characters', field: 'password' },
    ]);
    assert.match(err.message, /Email must be valid; Password must be/);
  });

  it('keeps errors without a field as they are', async () => {
    const err = await rejection(
      request('/api/users/signin', { transport: fakeTransport({ status: 400, text: '{"errors":[{"message":"Invalid credentials"}]}' }) }),
    );
    assert.deepEqual(err.errors, [{ message: 'Invalid credentials' }]);
  });

  it('turns a non-JSON failure (the ingress HTML page) into one readable message', async () => {
    const html = { contentType: 'text/html', text: '<html><h1>502 Bad Gateway</h1></html>' };
    assert.deepEqual((await rejection(request('/api/payments', { transport: fakeTransport({ status: 502, ...html }) }))).errors, [
      { message: UNAVAILABLE_ERROR },
    ]);
    assert.deepEqual((await rejection(request('/api/nope', { transport: fakeTransport({ status: 404, ...html }) }))).errors, [
      { message: 'Not Found' },
    ]);
    assert.deepEqual((await rejection(request('/x', { transport: fakeTransport({ status: 500, ...html }) }))).errors, [
      { message: GENERIC_ERROR },
    ]);
  });

  it('rejects with status 0 and a network message when the transport throws', async () => {
    const err = await rejection(
      request('/api/tickets', {
        transport: async () => {
          throw new TypeError('fetch failed');
        },
      }),
    );
    assert.equal(err.status, 0);
    assert.deepEqual(err.errors, [{ message: NETWORK_ERROR }]);
  });

  it('rejects a 2xx whose body is not JSON', async () => {
    const err = await rejection(request('/x', { transport: fakeTransport({ status: 200, contentType: 'text/html', text: '<html>' }) }));
    assert.deepEqual(err.errors, [{ message: GENERIC_ERROR }]);
  });

  it('send() also returns status and the cookies the API set', async () => {
    const res = await send('/api/users/currentuser', {
      transport: fakeTransport({ text: '{"currentUser":null}', setCookies: ['session=abc; Path=/'] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, { currentUser: null });
    assert.deepEqual(res.setCookies, ['session=abc; Path=/']);
    assert.deepEqual(res.headers, {}, 'no headers from a transport that reports none');
  });

  it('send() returns the response headers (a list names its next page in Link / X-Next-Cursor)', async () => {
    const res = await send('/api/tickets', {
      transport: fakeTransport({ text: '[]', headers: { link: '</api/tickets?cursor=c&limit=50>; rel="next"', 'x-next-cursor': 'c' } }),
    });
    assert.deepEqual(res.data, []);
    assert.equal(res.headers['x-next-cursor'], 'c');
    assert.equal(res.headers.link, '</api/tickets?cursor=c&limit=50>; rel="next"');
  });
});

describe('errorsFromResponse()', () => {
  it('ignores malformed entries and falls back when nothing usable is left', () => {
    assert.deepEqual(errorsFromResponse(400, 'application/json', '{"errors":[{"message":"Title is required","field":"title"},{"nope":1},"x"]}'), [
      { message: 'Title is required', field: 'title' },
    ]);
    assert.deepEqual(errorsFromResponse(400, 'application/json', '{"errors":[]}'), [{ message: GENERIC_ERROR }]);
    assert.deepEqual(errorsFromResponse(401, 'application/json', '{"error":"x"}'), [{ message: 'Not authorized' }]);
    assert.deepEqual(errorsFromResponse(400, 'application/json', '{not json'), [{ message: GENERIC_ERROR }]);
  });

  it('toApiErrors() gives a generic message for anything that is not a RequestError', () => {
    assert.deepEqual(toApiErrors(new Error('boom')), [{ message: GENERIC_ERROR }]);
    assert.deepEqual(toApiErrors(new RequestError(400, [{ message: 'x' }])), [{ message: 'x' }]);
  });
});
