import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawResponse, Transport } from '../../src/lib/request';
import { createRequestRunner, type RequestState } from '../../src/lib/use-request';

/** A transport whose answer the test releases when it wants, to look at the in-flight state. */
function controlledTransport() {
  let release!: (res: Partial<RawResponse>) => void;
  let calls = 0;
  const transport: Transport = () => {
    calls += 1;
    return new Promise((resolve) => {
      release = (res) => resolve({ status: 200, contentType: 'application/json', text: '{}', setCookies: [], ...res });
    });
  };
  return { transport, release: (res: Partial<RawResponse>) => release(res), calls: () => calls };
}

describe('the request runner behind useRequest', () => {
  it('is in flight until the response (and onSuccess) are done, then reports no errors', async () => {
    const t = controlledTransport();
    const states: RequestState[] = [];
    let successData: unknown;
    let finishNavigation!: () => void;
    const runner = createRequestRunner<{ id: string }>(
      {
        path: '/api/tickets',
        method: 'POST',
        requestOptions: { transport: t.transport },
        onSuccess: (data) => {
          successData = data;
          // like router.push: the form stays busy until the next page is there
          return new Promise<void>((resolve) => (finishNavigation = resolve));
        },
      },
      (s) => states.push(s),
    );

    const done = runner.run({ title: 'x', price: 1 });
    assert.deepEqual(runner.state, { inFlight: true, errors: null });
    t.release({ status: 201, text: '{"id":"t1"}' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(successData, { id: 't1' });
    assert.equal(runner.state.inFlight, true, 'still busy while onSuccess navigates');
    finishNavigation();
    assert.deepEqual(await done, { id: 't1' });
    assert.deepEqual(runner.state, { inFlight: false, errors: null });
    assert.deepEqual(states.map((s) => s.inFlight), [true, false]);
  });

  it('ignores a second submit while one is in flight', async () => {
    const t = controlledTransport();
    const runner = createRequestRunner({ path: '/api/orders', method: 'POST', requestOptions: { transport: t.transport } }, () => {});
    const first = runner.run({ ticketId: 'a' });
    assert.equal(await runner.run({ ticketId: 'a' }), undefined);
    assert.equal(t.calls(), 1);
    t.release({ status: 201, text: '{"id":"o1"}' });
    assert.deepEqual(await first, { id: 'o1' });
  });

  it("keeps the service's messages on failure and clears them when the next request starts", async () => {
    const t = controlledTransport();
    let successCalls = 0;
    const runner = createRequestRunner(
      { path: '/api/users/signup', method: 'POST', requestOptions: { transport: t.transport }, onSuccess: () => void (successCalls += 1) },
      () => {},
    );
    const failed = runner.run({ email: 'bad', password: 'x' });
    t.release({
      status: 400,
      text: '{"errors":[{"message":"Email must be valid","field":"email"},{"message":"Password must be between 8 and 64 characters","field":"password"}]}',
    });
    assert.equal(await failed, undefined);
    assert.deepEqual(runner.state, {
      inFlight: false,
      errors: [
        { message: 'Email must be valid', field: 'email' },
        { message: 'Password must be between 8 and 64 characters', field: 'password' },
      ],
    });
    assert.equal(successCalls, 0);

    const retry = runner.run({ email: 'a@b.co', password: 'password123' });
    assert.deepEqual(runner.state, { inFlight: true, errors: null });
    t.release({ status: 201, text: '{"id":"u1","email":"a@b.co"}' });
    await retry;
    assert.equal(successCalls, 1);
    assert.equal((runner.state as RequestState).errors, null);
  });

  it('shows a generic message when onSuccess itself fails, and clearErrors() empties the list', async () => {
    const t = controlledTransport();
    const runner = createRequestRunner(
      {
        path: '/x',
        method: 'POST',
        requestOptions: { transport: t.transport },
        onSuccess: () => {
          throw new Error('navigation failed');
        },
      },
      () => {},
    );
    const run = runner.run();
    t.release({ status: 200 });
    await run;
    assert.deepEqual(runner.state.errors, [{ message: 'Something went wrong' }]);
    runner.clearErrors();
    assert.equal(runner.state.errors, null);
  });

  it('reads path and method when it runs (the hook passes getters over the latest props)', async () => {
    const urls: string[] = [];
    let path = '/api/one';
    const transport: Transport = async (url) => {
      urls.push(url);
      return { status: 200, contentType: 'application/json', text: '{}', setCookies: [] };
    };
    const runner = createRequestRunner(
      {
        get path() {
          return path;
        },
        method: 'GET',
        requestOptions: { transport },
      },
      () => {},
    );
    await runner.run();
    path = '/api/two';
    await runner.run();
    assert.deepEqual(urls, ['/api/one', '/api/two']);
  });
});
