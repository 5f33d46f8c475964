// Two or three state machines on one simulated link with a fake clock: elections, failover timing, split brain
// and make-before-break step-down, checking who holds the VIPs at every instant.
import { describe, expect, it } from 'vitest';
import { Sim, config } from './sim.js';

function pair(aExtra = {}, bExtra = {}): Sim {
  const sim = new Sim();
  sim.add(config('A', '192.0.2.1', 150, aExtra));
  sim.add(config('B', '192.0.2.2', 100, bExtra));
  for (const r of sim.routers) sim.event(r, { type: 'startup' });
  return sim;
}

describe('two routers', () => {
  it('the higher priority wins the first election (its Master_Down is shorter) and keeps it', () => {
    const sim = pair();
    sim.runUntil(20_000);
    expect(sim.masters()).toEqual(['A']);
    expect(sim.holders()).toEqual(['A']);
    // A's Master_Down at priority 150: 3000 + 106 * 1000 / 256
    expect(sim.vipHistory[0]).toEqual({ at: 3414.0625, holders: ['A'] });
    expect(sim.get('A').sent.length).toBeGreaterThan(15);
  });

  it('master shutdown (priority 0): the backup takes over after Skew_Time only', () => {
    const sim = pair();
    sim.runUntil(10_000);
    sim.event(sim.get('A'), { type: 'shutdown' });
    expect(sim.holders()).toEqual([]);
    sim.runUntil(10_000 + 609.375);
    expect(sim.masters()).toEqual(['B']);
    expect(sim.vipHistory.at(-1)).toEqual({ at: 10_609.375, holders: ['B'] });
  });

  it('master link failure (nothing sent): the backup takes over after Master_Down_Interval from the last advert', () => {
    const sim = pair();
    sim.runUntil(10_000);
    const lastAdvert = sim.get('A').sent.at(-1)?.at ?? 0;
    const a = sim.get('A');
    a.connected = false;
    sim.event(a, { type: 'fault', reason: 'eth1 down', canSend: false });
    sim.runUntil(30_000);
    expect(sim.masters()).toEqual(['B']);
    const takeover = sim.vipHistory.find((h) => h.holders.includes('B'))?.at;
    expect(takeover).toBe(lastAdvert + 3609.375);
  });

  it('split brain: after a partition heals, the lower master steps down and the higher re-announces', () => {
    const sim = pair();
    sim.runUntil(10_000);
    sim.get('A').connected = false;
    sim.get('B').connected = false;
    sim.runUntil(20_000);
    expect(sim.masters().sort()).toEqual(['A', 'B']);
    sim.get('A').connected = true;
    sim.get('B').connected = true;
    sim.runUntil(21_500);
    expect(sim.masters()).toEqual(['A']);
    expect(sim.holders()).toEqual(['A']);
    // Whichever advert crossed first, A either answered B's lower advert (with a re-announce) or B stepped down on A's.
    const bStepDown = sim.get('B').log.find((a) => a.type === 'become-backup' && a.from === 'Master');
    expect(bStepDown).toMatchObject({ releaseVips: true, reason: expect.stringMatching(/higher priority advert from 192\.0\.2\.1 \(priority 150\)/) });
  });

  it('split brain answered by the higher master: it replies at once, re-announces, and the lower one yields', () => {
    const sim = pair();
    sim.runUntil(10_000);
    sim.get('A').connected = false;
    sim.get('B').connected = false;
    sim.runUntil(20_000);
    sim.get('A').connected = true;
    sim.get('B').connected = true;
    // B's advert is the first thing A hears on the healed link.
    const a = sim.get('A');
    const before = a.log.length;
    sim.event(a, { type: 'advert-received', priority: 100, maxAdvertIntervalCs: 100, src: '192.0.2.2' });
    const reaction = a.log.slice(before);
    expect(reaction.slice(0, 2)).toEqual([
      { type: 'send-advert', priority: 150 },
      { type: 'announce-vips', reason: 'lower priority master 192.0.2.2 (priority 100) seen' },
    ]);
    // A's immediate answer reached B, which yielded without waiting for A's next advert.
    expect(sim.masters()).toEqual(['A']);
    expect(sim.holders()).toEqual(['A']);
    expect(sim.vipHistory.at(-1)).toEqual({ at: 20_000, holders: ['A'] });
  });

  it('equal priority: the numerically higher address wins after a partition (IPv6)', () => {
    const sim = new Sim();
    sim.add(config('low', 'fe80::9', 100));
    sim.add(config('high', 'fe80::10', 100));
    for (const r of sim.routers) r.connected = false;
    for (const r of sim.routers) sim.event(r, { type: 'startup' });
    sim.runUntil(5000);
    expect(sim.masters().sort()).toEqual(['high', 'low']);
    for (const r of sim.routers) r.connected = true;
    sim.runUntil(7000);
    expect(sim.masters()).toEqual(['high']);
  });

  it('preempt: a higher router joining later takes over; nopreempt: it stays Backup', () => {
    for (const preempt of [true, false]) {
      const sim = new Sim();
      const b = sim.add(config('B', '192.0.2.2', 100));
      sim.event(b, { type: 'startup' });
      sim.runUntil(10_000);
      const a = sim.add(config('A', '192.0.2.1', 150, { preempt }));
      sim.event(a, { type: 'startup' });
      sim.runUntil(30_000);
      expect(sim.masters()).toEqual(preempt ? ['A'] : ['B']);
    }
  });

  it('planned step-down: the VIPs are never unheld, and the old master does not take them back', () => {
    const sim = pair();
    sim.runUntil(10_000);
    sim.event(sim.get('A'), { type: 'step-down-requested', reason: 'maintenance' });
    sim.runUntil(40_000);
    expect(sim.masters()).toEqual(['B']);
    expect(sim.holders()).toEqual(['B']);
    // Every change after the first election has someone holding the VIPs (make-before-break).
    for (const h of sim.vipHistory) expect(h.holders.length, `nobody held the VIPs at ${h.at}`).toBeGreaterThan(0);
    const overlap = sim.vipHistory.find((h) => h.holders.length === 2);
    expect(overlap?.at).toBe(10_000 + 609.375);
  });

  it('planned step-down with no other router: VIPs released at the bound, reclaimed after Master_Down', () => {
    const sim = new Sim();
    const a = sim.add(config('A', '192.0.2.1', 150, { stepDownHoldMs: 1000 }));
    sim.event(a, { type: 'startup' });
    sim.runUntil(10_000);
    sim.event(a, { type: 'step-down-requested', reason: 'test' });
    sim.runUntil(11_000);
    expect(sim.holders()).toEqual([]);
    sim.runUntil(11_000 + 3414.0625);
    expect(sim.masters()).toEqual(['A']);
  });
});
