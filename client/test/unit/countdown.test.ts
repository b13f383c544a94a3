import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, secondsLeft, startCountdown, type Clock } from '../../src/lib/countdown';

/** A clock the test moves by hand; interval callbacks run when it advances. */
function fakeClock(start: number) {
  let now = start;
  const timers = new Map<number, { fn: () => void; every: number; next: number }>();
  let nextId = 1;
  const clock: Clock = {
    now: () => now,
    setInterval: (fn, every) => {
      const id = nextId++;
      timers.set(id, { fn, every, next: now + every });
      return id;
    },
    clearInterval: (id) => void timers.delete(id as number),
  };
  return {
    clock,
    active: () => timers.size,
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.values()].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.every;
        due.fn();
      }
      now = end;
    },
  };
}

const T0 = Date.parse('2026-11-28T10:00:00.000Z');

describe('secondsLeft()', () => {
  it('counts whole seconds up, never below zero', () => {
    const expiresAt = new Date(T0 + 15 * 60_000).toISOString();
    assert.equal(secondsLeft(expiresAt, T0), 900);
    assert.equal(secondsLeft(expiresAt, T0 + 400), 900, 'a part-second left still shows the second');
    assert.equal(secondsLeft(expiresAt, T0 + 1000), 899);
    assert.equal(secondsLeft(expiresAt, T0 + 900_000), 0);
    assert.equal(secondsLeft(expiresAt, T0 + 999_999), 0);
  });

  it('takes strings, numbers and dates; an unreadable date is expired', () => {
    assert.equal(secondsLeft(T0 + 5000, T0), 5);
    assert.equal(secondsLeft(new Date(T0 + 5000), T0), 5);
    assert.equal(secondsLeft('not a date', T0), 0);
  });
});

describe('formatDuration()', () => {
  it('shows m:ss, or h:mm:ss from an hour', () => {
    assert.equal(formatDuration(900), '15:00');
    assert.equal(formatDuration(905), '15:05');
    assert.equal(formatDuration(59), '0:59');
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(-3), '0:00');
  });
});

describe('startCountdown()', () => {
  it('reports now, then once per second, then 0, then stops by itself', () => {
    const c = fakeClock(T0);
    const ticks: number[] = [];
    startCountdown(T0 + 3000, (s) => ticks.push(s), c.clock);
    assert.deepEqual(ticks, [3]);
    c.advance(1000);
    assert.deepEqual(ticks, [3, 2]);
    c.advance(10_000);
    assert.deepEqual(ticks, [3, 2, 1, 0]);
    assert.equal(c.active(), 0, 'no timer left after expiry');
  });

  it('catches up after a stall instead of replaying every second', () => {
    const c = fakeClock(T0);
    const ticks: number[] = [];
    startCountdown(T0 + 60_000, (s) => ticks.push(s), c.clock, 10_000);
    c.advance(30_000);
    assert.deepEqual(ticks, [60, 50, 40, 30]);
  });

  it('reports 0 at once for an order already expired, without a timer', () => {
    const c = fakeClock(T0);
    const ticks: number[] = [];
    startCountdown(T0 - 5000, (s) => ticks.push(s), c.clock);
    assert.deepEqual(ticks, [0]);
    assert.equal(c.active(), 0);
  });

  it('can be stopped early (when the page goes away)', () => {
    const c = fakeClock(T0);
    const ticks: number[] = [];
    const stop = startCountdown(T0 + 10_000, (s) => ticks.push(s), c.clock);
    c.advance(2000);
    stop();
    c.advance(5000);
    assert.deepEqual(ticks, [10, 9, 8]);
    assert.equal(c.active(), 0);
  });

  it('runs on the real clock by default', async () => {
    const ticks: number[] = [];
    const stop = startCountdown(Date.now() + 1100, (s) => ticks.push(s), undefined, 50);
    await new Promise((r) => setTimeout(r, 1300));
    stop();
    assert.deepEqual(ticks.slice(-2), [1, 0]);
    assert.ok(ticks.length <= 3, `ticks: ${ticks}`);
  });
});
