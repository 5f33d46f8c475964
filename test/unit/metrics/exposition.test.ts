import { describe, expect, it } from 'vitest';
import { parseExposition, valueOf } from './exposition.js';

// The reader is what the other metric tests rely on to call output "valid"; it must reject what Prometheus rejects.
describe('parseExposition (test helper)', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"uote"} 2\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n';

  it('reads families, samples, escapes and histogram suffixes', () => {
    const f = parseExposition(ok);
    expect(valueOf(f, 'a_total', { x: '1', y: 'q"uote' })).toBe(2);
    expect(valueOf(f, 'h_bucket', { le: '+Inf' })).toBe(1);
    expect(valueOf(f, 'h_count')).toBe(1);
    expect(f.get('a_total')?.help).toBe('A.');
  });

  it.each([
    ['a sample without a TYPE', 'b 1\n'],
    ['an unquoted label value', '# TYPE b gauge\nb{x=1} 1\n'],
    ['a bad label name', '# TYPE b gauge\nb{1x="1"} 1\n'],
    ['a bad value', '# TYPE b gauge\nb 1,5\n'],
    ['a duplicate series', '# TYPE b gauge\nb{x="1"} 1\nb{x="1"} 2\n'],
    ['a TYPE given twice', '# TYPE b gauge\n# TYPE b counter\n'],
    ['a missing final newline', '# TYPE b gauge\nb 1'],
    ['an unknown escape', '# TYPE b gauge\nb{x="\\t"} 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
