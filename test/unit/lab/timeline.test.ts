import { expect, it } from 'vitest';
import { formatEntry, Timeline } from '../../../src/lab/timeline.js';

it('prints one line per entry with time since start and the mark, and sums up', () => {
  let now = 1_000;
  const lines: string[] = [];
  const tl = new Timeline(() => now, (l) => lines.push(l));
  now = 2_500;
  tl.pass('eject', 'web2 weight 0');
  now = 65_010;
  expect(tl.check(false, 'failover', 'd2 is not master')).toBe(false);
  tl.info('x', 'note');
  expect(lines).toEqual(['[+   1.50s] PASS eject     web2 weight 0', '[+  64.01s] FAIL failover  d2 is not master', '[+  64.01s] INFO x         note']);
  expect(tl.failures().map((e) => e.step)).toEqual(['failover']);
  expect(tl.summary()).toBe('LAB FAILED: 1 checks passed, 1 failed');
});

it('a timeline without failures passes', () => {
  const tl = new Timeline(() => 0, () => undefined);
  tl.pass('a', 'ok');
  expect(tl.summary()).toMatch(/^LAB PASSED/);
  expect(formatEntry({ atMs: 0, mark: 'SKIP', step: 's', text: 't' })).toBe('[+   0.00s] SKIP s         t');
});
