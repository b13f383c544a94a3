// Lists a page at a time. `GET /api/tickets` and `GET /api/orders` answer a JSON array of at most
// `limit` items (default 50) and, when there is more, name the next page in two headers:
//   Link: </api/tickets?cursor=…&limit=50>; rel="next"      (RFC 8288)
//   X-Next-Cursor: …
// The cursor is opaque: it is only ever sent back as `?cursor=`.
import { RequestError, send, toApiErrors, GENERIC_ERROR, type ApiError, type RequestOptions, type Response } from './request';

export interface Page<T> {
  items: T[];
  /** The cursor of the next page; null on the last page. */
  nextCursor: string | null;
}

export const NEXT_CURSOR_HEADER = 'x-next-cursor';

/** The target of the `rel="next"` link in a Link header value, or null. */
export function nextLinkTarget(link: string | undefined | null): string | null {
  if (!link) return null;
  // Link values are comma-separated; a comma may also appear inside <…>, so split before '<'.
  for (const part of link.split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = match[2]
      .split(';')
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1])
      .find((rel) => rel !== undefined);
    if (rels?.toLowerCase().split(/\s+/).includes('next')) return match[1];
  }
  return null;
}

/** The next page's cursor from a response's headers (names in lower case): X-Next-Cursor, else Link. */
export function nextCursorOf(headers: Record<string, string>): string | null {
  const direct = headers[NEXT_CURSOR_HEADER]?.trim();
  if (direct) return direct;
  const target = nextLinkTarget(headers.link);
  if (!target) return null;
  const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  return new URLSearchParams(query).get('cursor') || null;
}

/** `path` asking for the page after `cursor` (the first page when null). */
export function pagePath(path: string, cursor: string | null): string {
  if (!cursor) return path;
  return `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
}

/** A list endpoint's answer as a page; anything but a JSON array is an error, not an empty list. */
export function pageOf<T>(res: Pick<Response<unknown>, 'status' | 'data' | 'headers'>): Page<T> {
  if (!Array.isArray(res.data)) throw new RequestError(res.status, [{ message: GENERIC_ERROR }]);
  return { items: res.data as T[], nextCursor: nextCursorOf(res.headers) };
}

/** Fetches one page (in the browser: same origin, through the ingress). */
export async function fetchPage<T>(
  path: string,
  cursor: string | null,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<Page<T>> {
  return pageOf<T>(await send<unknown>(pagePath(path, cursor), options));
}

export interface PagedListState<T> {
  items: T[];
  nextCursor: string | null;
  inFlight: boolean;
  errors: ApiError[] | null;
}

/**
 * The state machine behind usePagedList, free of React so it can be tested alone: `more()` loads
 * the page after the cursor and appends it (one load at a time; an item already shown is not
 * shown twice); a failure keeps what is shown and the cursor, so the button can try again.
 */
export function createPagedList<T extends { id: string }>(
  first: Page<T>,
  load: (cursor: string) => Promise<Page<T>>,
  onChange: (state: PagedListState<T>) => void,
) {
  let state: PagedListState<T> = { ...first, inFlight: false, errors: null };
  // Bumped by reset(): a load that started before it must not append to the new list.
  let generation = 0;
  const set = (next: Partial<PagedListState<T>>) => {
    state = { ...state, ...next };
    onChange(state);
  };

  return {
    get state() {
      return state;
    },
    async more(): Promise<void> {
      const cursor = state.nextCursor;
      if (state.inFlight || !cursor) return;
      const started = generation;
      set({ inFlight: true, errors: null });
      try {
        const page = await load(cursor);
        if (started !== generation) return;
        const shown = new Set(state.items.map((item) => item.id));
        set({
          items: [...state.items, ...page.items.filter((item) => !shown.has(item.id))],
          nextCursor: page.nextCursor,
          inFlight: false,
        });
      } catch (err) {
        if (started !== generation) return;
        set({ inFlight: false, errors: toApiErrors(err) });
      }
    },
    /** Starts over from a new first page (the server rendered the page again). */
    reset(page: Page<T>) {
      generation += 1;
      set({ ...page, inFlight: false, errors: null });
    },
  };
}
