import { useEffect, useState } from 'react';
import type { ApiError } from '@/lib/request';
import { ErrorList } from './ErrorList';

/**
 * "More …" under a paged list: shown while there is a next page, busy while it loads. It is
 * disabled until the page is hydrated, since it works only with JavaScript.
 */
export function MoreButton({
  label,
  hasMore,
  inFlight,
  errors,
  onMore,
}: {
  label: string;
  hasMore: boolean;
  inFlight: boolean;
  errors: ApiError[] | null;
  onMore: () => void;
}) {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  if (!hasMore) return null;
  return (
    <div className="more">
      <ErrorList errors={errors} title="Could not load more" />
      <button type="button" className="button" onClick={onMore} disabled={!hydrated || inFlight} aria-busy={inFlight}>
        {inFlight ? `${label}…` : label}
      </button>
    </div>
  );
}
