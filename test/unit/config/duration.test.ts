import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

const ms = (s: unknown): number => {
  const r = parseDuration(s);
  if (!r.ok) throw new Error(r.message);
  return r.ms;
};
const err = (s: unknown): string => {
  const r = parseDuration(s);
  if (r.ok) throw new Error(`expected "${String(s)}" to be rejected, got ${r.ms}`);
  return r.message;
};

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1.5s', 1500],
    ['0.1s', 100],
    ['0s', 0],
    ['1h2m3s4ms', 3_723_004],
    [' 10ms ', 10],
  ])('%s -> %d ms', (text, expected) => {
    expect(ms(text)).toBe(expected);
  });

  it('rejects bare numbers with a hint naming both spellings', () => {
    expect(err(1)).toBe('a duration needs a unit: write 1s or 1000ms');
    expect(err('5')).toBe('a duration needs a unit: write 5s or 5000ms');
    expect(err(0)).toContain('write 0s');
  });

  it.each(['', 'abc', '1x', '1s2', '-1s', '1s1m', '2s3s', '1.5ms', 's', '1 s'])('rejects %j', (text) => {
    expect(err(text)).toMatch(/duration/);
  });

  it('rejects non-strings that are not numbers', () => {
    expect(err(true)).toContain('got boolean');
    expect(err(['1s'])).toContain('a list');
  });

  it('formats milliseconds back to the unit form', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(3_723_004)).toBe('1h2m3s4ms');
    for (const t of ['1s', '1m30s', '2h', '1h2m3s4ms']) expect(formatDuration(ms(t))).toBe(t);
  });
});
