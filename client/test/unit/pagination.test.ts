import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPagedList,
  fetchPage,
  nextCursorOf,
  nextLinkTarget,
  pageOf,
  pagePath,
  type Page,
  type PagedListState,
} from '../../src/lib/pagination';
import { GENERIC_ERROR, NETWORK_ERROR, RequestError, type RawResponse, type Transport } from '../../src/lib/request';

type Item = { id: string };
const items = (...ids: string[]): Item[] => ids.map((id) => ({ id }));

describe('reading the next page from the headers', () => {
  it('takes the rel="next" target of a Link header (RFC 8288)', () => {
    assert.equal(nextLinkTarget('</api/tickets?cursor=abc&limit=50>; rel="next"'), '/api/tickets?cursor=abc&limit=50');
    assert.equal(nextLinkTarget('</a>; rel="prev", </b?x=1,2>; rel="next"'), '/b?x=1,2');
    assert.equal(nextLinkTarget('</b>; title="x"; rel=next'), '/b');
    assert.equal(nextLinkTarget('</b>; rel="prefetch NEXT"'), '/b');
    assert.equal(nextLinkTarget('</a>; rel="prev"'), null);
    assert.equal(nextLinkTarget('garbage'), null);
    assert.equal(nextLinkTarget(undefined), null);
  });

  it('prefers X-Next-Cursor, falls back to the cursor in Link, and is null on the last page', () => {
    assert.equal(nextCursorOf({ 'x-next-cursor': 'c1', link: '</api/tickets?cursor=c2&limit=50>; rel="next"' }), 'c1');
    assert.equal(nextCursorOf({ link: '</api/tickets?cursor=c2&limit=50>; rel="next"' }), 'c2');
    assert.equal(nextCursorOf({ link: '</api/tickets?limit=50>; rel="next"' }), null);
    assert.equal(nextCursorOf({}), null);
  });

  it('asks for the page after a cursor, escaping it; the first page has no cursor', () => {
    assert.equal(pagePath('/api/tickets', null), '/api/tickets');
    assert.equal(pagePath('/api/tickets', 'dGlj-a_2'), '/api/tickets?cursor=dGlj-a_2');
    assert.equal(pagePath('/api/tickets?limit=5', 'a+b/='), '/api/tickets?limit=5&cursor=a%2Bb%2F%3D');
  });

  it('a page is the JSON array with its next cursor; anything else is an error', () => {
    assert.deepEqual(pageOf({ status: 200, data: items('a'), headers: { 'x-next-cursor': 'n' } }), {
      items: items('a'),
      nextCursor: 'n',
    });
    assert.throws(
      () => pageOf({ status: 200, data: { items: [] }, headers: {} }),
      (err: unknown) => err instanceof RequestError && err.errors[0].message === GENERIC_ERROR,
    );
  });
});

describe('fetchPage()', () => {
  it('sends the cursor and reads the headers the transport hands back', async () => {
    const urls: string[] = [];
    const transport: Transport = async (url) => {
      urls.push(url);
      return {
        status: 200,
        contentType: 'application/json',
        text: '[{"id":"t2"}]',
        setCookies: [],
        headers: { link: '</api/tickets?cursor=next2&limit=50>; rel="next"', 'x-next-cursor': 'next2' },
      } satisfies RawResponse;
    };
    assert.deepEqual(await fetchPage<Item>('/api/tickets', 'c1', { transport }), { items: items('t2'), nextCursor: 'next2' });
    assert.deepEqual(urls, ['/api/tickets?cursor=c1']);
  });

  it("rejects with the service's messages (a bad cursor is a 400)", async () => {
    const transport: Transport = async () => ({
      status: 400,
      contentType: 'application/json',
      text: '{"errors":[{"message":"Cursor is invalid","field":"cursor"}]}',
      setCookies: [],
    });
    await assert.rejects(fetchPage('/api/tickets', 'bad', { transport }), (err: unknown) => {
      assert.ok(err instanceof RequestError);
      assert.deepEqual(err.errors, [{ message: 'Cursor is invalid', field: 'cursor' }]);
      return true;
    });
  });
});

/** A loader whose answers the test releases, to look at the in-flight state. */
function controlledLoader() {
  const cursors: string[] = [];
  let settle!: { resolve: (page: Page<Item>) => void; reject: (err: unknown) => void };
  const load = (cursor: string) => {
    cursors.push(cursor);
    return new Promise<Page<Item>>((resolve, reject) => (settle = { resolve, reject }));
  };
  return { load, cursors, resolve: (p: Page<Item>) => settle.resolve(p), reject: (e: unknown) => settle.reject(e) };
}

describe('the paged list behind usePagedList', () => {
  it('appends each next page until there is none', async () => {
    const loader = controlledLoader();
    const states: PagedListState<Item>[] = [];
    const list = createPagedList<Item>({ items: items('a', 'b'), nextCursor: 'c1' }, loader.load, (s) => states.push(s));

    const first = list.more();
    assert.equal(list.state.inFlight, true);
    loader.resolve({ items: items('c', 'd'), nextCursor: 'c2' });
    await first;
    assert.deepEqual(list.state, { items: items('a', 'b', 'c', 'd'), nextCursor: 'c2', inFlight: false, errors: null });

    const second = list.more();
    loader.resolve({ items: items('e'), nextCursor: null });
    await second;
    assert.deepEqual(list.state.items, items('a', 'b', 'c', 'd', 'e'));
    assert.equal(list.state.nextCursor, null);

    await list.more(); // nothing left: no request
    assert.deepEqual(loader.cursors, ['c1', 'c2']);
    assert.deepEqual(states.map((s) => s.inFlight), [true, false, true, false]);
  });

  it('loads one page at a time (a second click while one loads is ignored)', async () => {
    const loader = controlledLoader();
    const list = createPagedList<Item>({ items: items('a'), nextCursor: 'c1' }, loader.load, () => {});
    const first = list.more();
    await list.more();
    assert.deepEqual(loader.cursors, ['c1']);
    loader.resolve({ items: items('b'), nextCursor: null });
    await first;
    assert.deepEqual(list.state.items, items('a', 'b'));
  });

  it('never shows an item twice', async () => {
    const loader = controlledLoader();
    const list = createPagedList<Item>({ items: items('a', 'b'), nextCursor: 'c1' }, loader.load, () => {});
    const more = list.more();
    loader.resolve({ items: items('b', 'c'), nextCursor: null });
    await more;
    assert.deepEqual(list.state.items, items('a', 'b', 'c'));
  });

  it('keeps what it shows and the cursor when a page fails, so the button can try again', async () => {
    const loader = controlledLoader();
    const list = createPagedList<Item>({ items: items('a'), nextCursor: 'c1' }, loader.load, () => {});
    const failed = list.more();
    loader.reject(new RequestError(0, [{ message: NETWORK_ERROR }]));
    await failed;
    assert.deepEqual(list.state, { items: items('a'), nextCursor: 'c1', inFlight: false, errors: [{ message: NETWORK_ERROR }] });

    const retried = list.more();
    assert.equal(list.state.errors, null, 'errors clear when the next try starts');
    loader.resolve({ items: items('b'), nextCursor: null });
    await retried;
    assert.deepEqual(list.state.items, items('a', 'b'));
    assert.deepEqual(loader.cursors, ['c1', 'c1']);
  });

  it('starts over from a new first page, dropping a load that was in flight', async () => {
    const loader = controlledLoader();
    const list = createPagedList<Item>({ items: items('a'), nextCursor: 'c1' }, loader.load, () => {});
    const stale = list.more();
    list.reset({ items: items('x'), nextCursor: 'c9' });
    loader.resolve({ items: items('b'), nextCursor: null });
    await stale;
    assert.deepEqual(list.state, { items: items('x'), nextCursor: 'c9', inFlight: false, errors: null });
  });
});
