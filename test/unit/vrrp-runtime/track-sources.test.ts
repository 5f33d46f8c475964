import { describe, expect, it } from 'vitest';
import { watchInterfaces } from '../../../src/vrrp/runtime/link-watch.js';
import { operstateIsUp, riseFall, runTrackScripts } from '../../../src/vrrp/runtime/track-sources.js';
import { ManualTimers } from './fakes.js';

describe('track sources', () => {
  it('operstate: up and unknown are up; down, lowerlayerdown and absent are down', () => {
    expect(['up\n', 'unknown\n', 'down\n', 'lowerlayerdown\n', undefined].map(operstateIsUp)).toEqual([true, true, false, false, false]);
  });

  it('riseFall needs `rise` successes / `fall` failures in a row', () => {
    let s = { up: true, streak: 0 };
    s = riseFall(s, false, 2, 3);
    s = riseFall(s, false, 2, 3);
    expect(s.up).toBe(true);
    s = riseFall(s, true, 2, 3); // a success resets the failure streak
    s = riseFall(s, false, 2, 3);
    s = riseFall(s, false, 2, 3);
    s = riseFall(s, false, 2, 3);
    expect(s.up).toBe(false);
    s = riseFall(s, true, 2, 3);
    expect(s.up).toBe(false);
    s = riseFall(s, true, 2, 3);
    expect(s.up).toBe(true);
  });

  it('watchInterfaces reports the first state and each change, and stops polling', async () => {
    const timers = new ManualTimers();
    const states = new Map([['eth0', 'up']]);
    const seen: string[] = [];
    const w = watchInterfaces(['eth0', 'eth9'], (n, up) => seen.push(`${n}:${up}`), { intervalMs: 100, timers, read: (n) => Promise.resolve(states.get(n)) });
    await timers.advance(250);
    states.set('eth0', 'down');
    await timers.advance(200);
    expect(seen).toEqual(['eth0:true', 'eth9:false', 'eth0:false']);
    w.stop();
    expect(timers.count()).toBe(0);
  });

  it('runTrackScripts: rise/fall on the runner results, one run at a time per script', async () => {
    const timers = new ManualTimers();
    const results = [false, false, true, true];
    let calls = 0;
    const seen: string[] = [];
    const r = runTrackScripts(
      [{ name: 's', command: ['/bin/false'], intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 }],
      (n, up, detail) => seen.push(`${n}:${up}:${detail}`),
      { timers, runner: () => Promise.resolve({ ok: results[calls++] ?? true, detail: `run ${calls}` }) },
    );
    await timers.advance(3500);
    expect(calls).toBe(4);
    expect(seen).toEqual(['s:false:track script s: run 2', 's:true:track script s: run 4']);
    r.stop();
    await timers.advance(5000);
    expect(calls).toBe(4);
  });
});
