import { useCallback, useEffect, useRef, useState } from 'react';
import { createPagedList, fetchPage, type PagedListState } from './pagination';

/**
 * `const { items, nextCursor, more, inFlight, errors } = usePagedList('/api/tickets', first, cursor)`:
 * starts from the server-rendered first page, `more()` appends the next one fetched in the browser.
 * When the server renders the page again (new props), the list starts over from them.
 */
export function usePagedList<T extends { id: string }>(path: string, firstItems: T[], firstCursor: string | null) {
  const [state, setState] = useState<PagedListState<T>>(() => ({
    items: firstItems,
    nextCursor: firstCursor,
    inFlight: false,
    errors: null,
  }));
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const pathRef = useRef(path);
  useEffect(() => {
    pathRef.current = path;
  });

  const listRef = useRef<ReturnType<typeof createPagedList<T>> | null>(null);
  if (listRef.current === null) {
    listRef.current = createPagedList<T>(
      { items: firstItems, nextCursor: firstCursor },
      (cursor) => fetchPage<T>(pathRef.current, cursor),
      (next) => {
        if (mounted.current) setState(next);
      },
    );
  }
  const list = listRef.current;

  const shown = useRef({ firstItems, firstCursor });
  useEffect(() => {
    if (shown.current.firstItems === firstItems && shown.current.firstCursor === firstCursor) return;
    shown.current = { firstItems, firstCursor };
    list.reset({ items: firstItems, nextCursor: firstCursor });
  }, [firstItems, firstCursor, list]);

  const more = useCallback(() => list.more(), [list]);
  return { ...state, more };
}
