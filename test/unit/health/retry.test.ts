import { describe, expect, it } from 'vitest';
import { probeWithRetries, realSleep } from '../../../src/health/retry.js';
import { exitVerdict } from '../../../src/health/script.js';
import type { Prober, ProbeResult } from '../../../src/health/types.js';

function scripted(results: (ProbeResult | Error)[]): Prober & { calls: number } {
  const p = {
    calls: 0,
    probe: async (): Promise<ProbeResult> => {
      const r = results[Math.min(p.calls++, results.length - 1)];
      if (r instanceof Error) throw r;
      return r as ProbeResult;
    },
    close: async (): Promise<void> => undefined,
  };
  return p;
}
const ok = (reason = 'HTTP 200'): ProbeResult => ({ ok: true, latencyMs: 1, reason });
const bad = (reason = 'HTTP 503'): ProbeResult => ({ ok: false, latencyMs: 1, reason });

describe('retries inside one check', () => {
  it('first success returns at once without sleeping', async () => {
    const slept: number[] = [];
    const p = scripted([ok()]);
    expect(await probeWithRetries(p, { retries: 3, retryDelayMs: 100 }, undefined, async (ms) => void slept.push(ms))).toEqual(ok());
    expect(p.calls).toBe(1);
    expect(slept).toEqual([]);
  });
  it('retries with the delay and says which attempt succeeded', async () => {
    const slept: number[] = [];
    const p = scripted([bad(), bad(), ok()]);
    const r = await probeWithRetries(p, { retries: 3, retryDelayMs: 250 }, undefined, async (ms) => void slept.push(ms));
    expect(r).toMatchObject({ ok: true, reason: 'HTTP 200 (attempt 3 of 4)' });
    expect(slept).toEqual([250, 250]);
  });
  it('fails with the last reason after all attempts; a throwing probe is a failed attempt', async () => {
    const p = scripted([bad('connection refused'), new Error('boom')]);
    const r = await probeWithRetries(p, { retries: 2, retryDelayMs: 0 }, undefined, async () => undefined);
    expect(r).toMatchObject({ ok: false, reason: 'probe threw: boom (3 attempts)' });
    expect(p.calls).toBe(3);
  });
  it('stops retrying once aborted', async () => {
    const ctl = new AbortController();
    const p = scripted([bad()]);
    const r = probeWithRetries(p, { retries: 5, retryDelayMs: 10 }, ctl.signal, async () => ctl.abort());
    expect((await r).ok).toBe(false);
    expect(p.calls).toBe(2);
  });
  it('the real sleep ends early on abort', async () => {
    const ctl = new AbortController();
    const t0 = performance.now();
    const s = realSleep(10_000, ctl.signal);
    ctl.abort();
    await s;
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('script exit verdicts (keepalived misc_dynamic)', () => {
  it.each([
    [0, false, { ok: true }],
    [1, false, { ok: false }],
    [7, false, { ok: false }],
    [0, true, { ok: true }],
    [1, true, { ok: false }],
    [2, true, { ok: true, weight: 0 }],
    [255, true, { ok: true, weight: 253 }],
  ])('exit %i dynamic %s', (code, dyn, want) => {
    expect(exitVerdict(code, dyn)).toEqual(want);
  });
});
