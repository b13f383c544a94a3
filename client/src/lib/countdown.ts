// The order page's countdown, as plain functions with an injectable clock so tests need no timers.

/** Whole seconds from `now` (ms) until `expiresAt`, never negative; an unreadable date counts as expired. */
export function secondsLeft(expiresAt: string | number | Date, now: number): number {
  const end = expiresAt instanceof Date ? expiresAt.getTime() : new Date(expiresAt).getTime();
  if (!Number.isFinite(end)) return 0;
  return Math.max(0, Math.ceil((end - now) / 1000));
}

/** 905 → "15:05", 59 → "0:59", 3725 → "1:02:05". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  return `${minutes}:${ss}`;
}

export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/**
 * Calls `onTick(secondsLeft)` now and whenever the whole-second value changes, checking four times
 * a second so a slow tab never skips a second for long; stops by itself after reporting 0.
 * Returns a function that stops it early.
 */
export function startCountdown(
  expiresAt: string | number | Date,
  onTick: (secondsLeft: number) => void,
  clock: Clock = realClock,
  checkEveryMs = 250,
): () => void {
  let last = secondsLeft(expiresAt, clock.now());
  onTick(last);
  if (last === 0) return () => {};

  let handle: unknown = clock.setInterval(() => {
    const left = secondsLeft(expiresAt, clock.now());
    if (left !== last) {
      last = left;
      onTick(left);
    }
    if (left === 0) stop();
  }, checkEveryMs);

  function stop() {
    if (handle !== undefined) {
      clock.clearInterval(handle);
      handle = undefined;
    }
  }
  return stop;
}
