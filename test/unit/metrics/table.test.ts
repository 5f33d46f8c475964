// SeriesTable (src/metrics/table.ts) writes the same text prom-client would for the same series, keeps only
// what a refresh set, and LvskeepRegistry lets concurrent scrapes share one collection.
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LvskeepRegistry, SeriesTable } from '../../../src/metrics/table.js';
import { parseExposition, samplesOf } from './exposition.js';

const NAMES = ['virtual_server', 'real_server', 'state'] as const;
const SETS: [Partial<Record<(typeof NAMES)[number], string>>, number][] = [
  [{ virtual_server: 'tcp 203.0.113.1:80', real_server: '198.51.100.11:80', state: 'up' }, 1],
  [{ virtual_server: 'tcp 203.0.113.1:80', real_server: '198.51.100.11:80', state: 'down' }, 0],
  [{ virtual_server: 'we"ird\\name\nx', real_server: '[2001:db8::1]:80', state: 'up' }, 0.25],
  [{ virtual_server: 'a', real_server: 'b' }, Number.POSITIVE_INFINITY],
  [{ virtual_server: 'a', real_server: 'c', state: 'up' }, Number.NaN],
  [{ virtual_server: 'a', real_server: 'd', state: 'up' }, -1e21],
];

describe('SeriesTable', () => {
  it('renders what a prom-client gauge and counter render for the same series', async () => {
    const theirs = new Registry();
    const ours = new LvskeepRegistry();
    const help = 'Help with a \\ backslash\nand a newline.';
    const g = new Gauge({ name: 'x_gauge', help, labelNames: NAMES, registers: [theirs] });
    const t = new SeriesTable({ name: 'x_gauge', help, type: 'gauge', labelNames: NAMES, registers: [ours] });
    for (const [labels, v] of SETS) {
      g.set(labels, v);
      t.set(labels, v);
    }
    const c = new Counter({ name: 'x_total', help: 'c', labelNames: ['result'] as const, registers: [theirs] });
    const tc = new SeriesTable({ name: 'x_total', help: 'c', type: 'counter', labelNames: ['result'] as const, registers: [ours] });
    c.inc({ result: 'ok' }, 3);
    c.inc({ result: 'ok' });
    c.inc({ result: 'error' }, 0);
    tc.inc({ result: 'ok' }, 3);
    tc.inc({ result: 'ok' });
    tc.inc({ result: 'error' }, 0);
    expect(() => tc.inc({ result: 'ok' }, -1)).toThrow();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('keeps what a refresh set, drops the rest, and re-renders a changed value', async () => {
    const reg = new LvskeepRegistry();
    const t = new SeriesTable({ name: 'y', help: 'y', type: 'gauge', labelNames: ['a', 'b'] as const, registers: [reg] });
    t.refresh(() => {
      t.setValues(['1', 'x'], 1);
      t.setValues(['1', 'y'], 2);
      t.setValues(['2', 'x'], 3);
    });
    expect(samplesOf(parseExposition(await reg.metrics()), 'y').map((s) => s.value)).toEqual([1, 2, 3]);
    t.refresh(() => {
      t.setValues(['1', 'y'], 5);
      t.setValues(['2', 'x'], 3);
    });
    let f = parseExposition(await reg.metrics());
    expect(samplesOf(f, 'y').map((s) => [s.labels.a, s.labels.b, s.value])).toEqual([['1', 'y', 5], ['2', 'x', 3]]);
    t.remove({ a: '1', b: 'y' });
    t.remove({ a: '9', b: 'y' });
    f = parseExposition(await reg.metrics());
    expect(samplesOf(f, 'y').map((s) => s.value)).toEqual([3]);
    t.reset();
    expect(samplesOf(parseExposition(await reg.metrics()), 'y')).toEqual([]);
  });

  it('shares one collection between concurrent scrapes', async () => {
    const reg = new LvskeepRegistry();
    const t = new SeriesTable({ name: 'z', help: 'z', type: 'gauge', labelNames: ['a'] as const, registers: [reg] });
    let reads = 0;
    t.collect = async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      t.set({ a: 'x' }, reads);
    };
    const [one, two] = await Promise.all([reg.metrics(), reg.metrics()]);
    expect(reads).toBe(1);
    expect(one).toBe(two);
    await reg.metrics();
    expect(reads).toBe(2);
  });
});
