import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyVerdict, parseStatusList, statusMatches } from '../../../src/health/expect.js';

describe('status expectations', () => {
  it('parses lists and ranges', () => {
    expect(parseStatusList('200-299, 301,404')).toEqual([[200, 299], [301, 301], [404, 404]]);
  });
  it.each(['', '20x', '300-200', '600', '99'])('rejects %j naming the item', (text) => {
    expect(() => parseStatusList(text)).toThrow(/status list/);
  });
  it('matches ranges; an empty list means 2xx', () => {
    expect(statusMatches(204, [[200, 299]])).toBe(true);
    expect(statusMatches(503, [[200, 299], [301, 301]])).toBe(false);
    expect(statusMatches(301, [[200, 299], [301, 301]])).toBe(true);
    expect(statusMatches(200, [])).toBe(true);
    expect(statusMatches(302, [])).toBe(false);
  });
});

describe('body expectations', () => {
  const body = Buffer.from('status: ok\n');
  it('regex', () => {
    expect(bodyVerdict(body, false, { status: [] }, /ok/)).toBeUndefined();
    expect(bodyVerdict(body, false, { status: [] }, /healthy/)).toBe('body did not match /healthy/');
  });
  it('digest md5 and sha256, case-insensitive expected hex', () => {
    const md5 = createHash('md5').update(body).digest('hex');
    expect(bodyVerdict(body, false, { status: [], digest: { algorithm: 'md5', hex: md5.toUpperCase() } })).toBeUndefined();
    expect(bodyVerdict(body, false, { status: [], digest: { algorithm: 'sha256', hex: md5 } })).toMatch(/^body sha256 [0-9a-f]{64} != expected/);
  });
  it('refuses a digest of a truncated body', () => {
    expect(bodyVerdict(body, true, { status: [], digest: { algorithm: 'md5', hex: 'x' } })).toMatch(/cap/);
  });
});
