/**
 * Malformed input must give errors, never an exception: mutate the example configurations line by line with a
 * fixed-seed generator and check every result is well-formed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';

const dir = fileURLToPath(new URL('../../../config/', import.meta.url));
const seeds = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(dir, f), 'utf8'));
seeds.push(readFileSync(fileURLToPath(new URL('../../fixtures/config/broken.yaml', import.meta.url)), 'utf8'));

/** mulberry32: small deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ITERATIONS = Number(process.env.LVSKEEP_FUZZ_ITERATIONS ?? 120);
const JUNK = ['', '-', ':', '{', ']', '*a', '&a', '!!int x', '"', "'", '${X}', '$${X}', '~', 'null', '[]', '{}', '0', '-1', '1e400', '1s', 'x: y', '- - -', '\t', '<<: *a', '999999999999999999999', '::', '[::1]:0'];

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * lines.length);
    const junk = JUNK[Math.floor(r() * JUNK.length)] ?? '';
    const line = lines[at] ?? '';
    switch (Math.floor(r() * 5)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[Math.floor(r() * lines.length)] ?? '');
        break;
      case 2: // replace the value after the first colon
        lines[at] = line.includes(':') ? `${line.slice(0, line.indexOf(':') + 1)} ${junk}` : junk;
        break;
      case 3: // change indentation
        lines[at] = r() < 0.5 ? `  ${line}` : line.replace(/^ {1,2}/, '');
        break;
      default:
        lines[at] = line + junk;
    }
  }
  return lines.join('\n');
}

describe('malformed configurations', () => {
  it('always produce a result with positioned issues, never an exception', () => {
    const r = rng(Number(process.env.LVSKEEP_FUZZ_SEED ?? 20261121));
    let failures = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seeds[i % seeds.length] ?? '';
      const text = mutate(seed, r);
      const result = parseConfigText(text, 'fuzz.yaml', { X: 'value' });
      const issues = result.ok ? result.warnings : result.errors;
      if (!result.ok) {
        failures++;
        expect(result.errors.length).toBeGreaterThan(0);
      }
      const lineCount = text.split('\n').length;
      for (const issue of issues) {
        expect(issue.line).toBeGreaterThanOrEqual(1);
        expect(issue.line).toBeLessThanOrEqual(lineCount + 1);
        expect(issue.col).toBeGreaterThanOrEqual(1);
        expect(issue.message).not.toBe('');
      }
    }
    // The mutations must actually break things most of the time, or this test proves nothing.
    expect(failures).toBeGreaterThan(ITERATIONS / 2);
  }, Math.max(10_000, ITERATIONS * 50));
});
