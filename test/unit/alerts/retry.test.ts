import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_RETRY_AFTER_MS, nextRetryDelay, parseRetryAfter } from '../../../src/alerts/retry.js';

const policy = { baseMs: 1000, maxMs: 30_000 };

describe('backoffDelay', () => {
  it('doubles per attempt with jitter between half and full delay', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(500);
    expect(backoffDelay(0, policy, () => 1)).toBe(1000);
    expect(backoffDelay(1, policy, () => 0)).toBe(1000);
    expect(backoffDelay(3, policy, () => 1)).toBe(8000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(6000);
  });

  it('is capped, also for absurd attempt numbers', () => {
    expect(backoffDelay(10, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(5000, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(5000, policy, () => 0)).toBe(15_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });

  it('reads an HTTP-date relative to now, and a past date as now', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or malformed values and caps huge ones', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('nextRetryDelay', () => {
  it('waits at least Retry-After, and at least our own backoff', () => {
    expect(nextRetryDelay(0, 4000, policy, () => 1)).toBe(4000);
    expect(nextRetryDelay(4, 200, policy, () => 1)).toBe(16_000);
    expect(nextRetryDelay(0, 0, policy, () => 0)).toBe(500); // Retry-After: 0 is no licence to spin
    expect(nextRetryDelay(2, undefined, policy, () => 1)).toBe(4000);
  });
});
