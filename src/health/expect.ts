/** Pure verdicts on an HTTP response: status against ranges, body against a regex or a digest. */
import { createHash } from 'node:crypto';
import type { HttpExpect, StatusRange } from './types.js';

export function statusMatches(status: number, ranges: readonly StatusRange[]): boolean {
  if (ranges.length === 0) return status >= 200 && status <= 299;
  return ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

/**
 * Parse `200-299,301, 404` into ranges. Throws with the offending item named, so a config error points at it.
 */
export function parseStatusList(text: string): StatusRange[] {
  const out: StatusRange[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item);
    if (!m || m[1] === undefined) throw new Error(`status list: "${item}" is not NNN or NNN-NNN`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 100 || hi > 599 || lo > hi) throw new Error(`status list: "${item}" is outside 100-599 or reversed`);
    out.push([lo, hi]);
  }
  if (out.length === 0) throw new Error('status list: empty');
  return out;
}

export function needsBody(expect: HttpExpect): boolean {
  return expect.bodyRegex !== undefined || expect.digest !== undefined;
}

/** A failure reason, or undefined when the body satisfies every expectation. */
export function bodyVerdict(body: Buffer, truncated: boolean, expect: HttpExpect, regex?: RegExp): string | undefined {
  if (expect.digest) {
    if (truncated) return `body larger than the ${body.length}-byte cap, digest not computed`;
    const got = createHash(expect.digest.algorithm).update(body).digest('hex');
    if (got !== expect.digest.hex.toLowerCase()) return `body ${expect.digest.algorithm} ${got} != expected ${expect.digest.hex.toLowerCase()}`;
  }
  if (regex && !regex.test(body.toString('utf8'))) return `body did not match /${regex.source}/`;
  return undefined;
}
