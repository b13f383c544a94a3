import { useEffect, useState } from 'react';
import { secondsLeft, startCountdown } from './countdown';

/**
 * Seconds left until `expiresAt`. The first render uses `renderedAt` (the server's clock when it
 * rendered the page, passed down as a prop), so the server's HTML and the browser's first render
 * agree; from then on the browser's clock drives it.
 */
export function useCountdown(expiresAt: string, renderedAt: number): number {
  const [left, setLeft] = useState(() => secondsLeft(expiresAt, renderedAt));
  useEffect(() => startCountdown(expiresAt, setLeft), [expiresAt]);
  return left;
}
