// Random event sequences (seeded) against the invariants the adapter relies on: never throws, timers match the
// state, VIPs are held only by a Master or a stepping-down Backup, and sync groups never split Master/Fault.
import { describe, expect, it } from 'vitest';
import { seeded } from '../../harness/seeded-random.js';
import { initialState, step, type VrrpEvent, type VrrpInstanceState } from '../../../src/vrrp/state-machine.js';
import { stepSyncGroup, type SyncGroup } from '../../../src/vrrp/sync-group.js';
import { config } from './sim.js';

const mulberry32 = seeded;

function randomEvent(rand: () => number): VrrpEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const prio = pick([0, 1, 50, 100, 150, 254, 255]);
  switch (Math.floor(rand() * 10)) {
    case 0: return { type: 'startup' };
    case 1: return { type: 'shutdown' };
    case 2:
    case 3: return { type: 'advert-received', priority: prio, maxAdvertIntervalCs: pick([1, 50, 100, 4095]), src: pick(['192.0.2.1', '192.0.2.9', '192.0.2.10', '192.0.2.200']) };
    case 4: return { type: 'priority-changed', priority: pick([1, 90, 100, 200, 254]), reason: 'fuzz' };
    case 5: return { type: 'fault', reason: 'fuzz', canSend: rand() < 0.5 };
    case 6: return { type: 'fault-cleared', reason: 'fuzz' };
    case 7: return { type: 'step-down-requested', reason: 'fuzz' };
    case 8: return { type: 'preempt-resume', reason: 'fuzz' };
    default: return { type: 'startup' };
  }
}

/** The first broken invariant, or undefined. Plain checks (not expect) so 200k calls stay fast. */
function brokenInvariant(s: VrrpInstanceState): string | undefined {
  const t = s.timers;
  const faulty = s.faulted || s.syncFaulted;
  switch (s.state) {
    case 'Master':
      if (t.advert === undefined) return 'Master without advert timer';
      if (t['master-down'] !== undefined) return 'Master with master-down timer';
      if (!s.holdingVips) return 'Master without VIPs';
      if (faulty) return 'Master while faulted';
      return undefined;
    case 'Backup':
      if (t.advert !== undefined) return 'Backup with advert timer';
      if (t['master-down'] === undefined && t['step-down'] === undefined) return 'Backup with no timer (stuck forever)';
      if (s.holdingVips && t['step-down'] === undefined) return 'Backup holding VIPs without step-down bound';
      if (faulty) return 'Backup while faulted';
      return undefined;
    default:
      if (Object.keys(t).length > 0) return `${s.state} with timers ${Object.keys(t).join(',')}`;
      if (s.holdingVips) return `${s.state} holding VIPs`;
      if (s.state === 'Fault' && !faulty) return 'Fault without a fault';
      return undefined;
  }
}

function checkInvariants(s: VrrpInstanceState, where: () => string): void {
  const broken = brokenInvariant(s);
  if (broken) expect.fail(`${broken} at ${where()}`);
}

// CPU-bound and deterministic: ~1 s idle, 5x that on a loaded 2-core machine, past vitest's 5 s default.
const FUZZ_TIMEOUT_MS = 60_000;

describe('state machine under random events', () => {
  it('5000 sequences x 40 events keep the invariants', () => {
    const rand = mulberry32(0xfeed);
    for (let seq = 0; seq < 5000; seq++) {
      let s = initialState(config('r', '192.0.2.10', [100, 150, 255][seq % 3] ?? 100, { preemptDelayMs: seq % 2 ? 2000 : 0, preempt: seq % 5 !== 0 }), 0);
      let now = 0;
      for (let i = 0; i < 40; i++) {
        now += Math.floor(rand() * 2000);
        // Fire due timers first, in deadline order, as an adapter would.
        for (let guard = 0; guard < 10; guard++) {
          const due = Object.entries(s.timers).filter(([, at]) => at !== undefined && at <= now).sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0))[0];
          if (!due) break;
          const ev: VrrpEvent = due[0] === 'advert' ? { type: 'advert-timer-fired' } : due[0] === 'master-down' ? { type: 'master-down-timer-fired' } : { type: 'step-down-timer-fired' };
          s = step(s, ev, due[1] ?? now).state;
          checkInvariants(s, () => `seq ${seq} event ${i} after ${due[0]} timer`);
        }
        const ev = randomEvent(rand);
        const r = step(s, ev, now);
        for (const a of r.actions) if (a.type === 'send-advert' && !(a.priority >= 0 && a.priority <= 255)) expect.fail(`advert priority ${a.priority}`);
        s = r.state;
        checkInvariants(s, () => `seq ${seq} event ${i} ${JSON.stringify(ev)}`);
      }
    }
  }, FUZZ_TIMEOUT_MS);

  it('a sync group never has one member Master while another is Fault', () => {
    const rand = mulberry32(0xc0ffee);
    const group: SyncGroup = { name: 'G', members: ['a', 'b', 'c'] };
    for (let seq = 0; seq < 1000; seq++) {
      let states: Record<string, VrrpInstanceState> = {
        a: initialState(config('a', '192.0.2.10', 100), 0),
        b: initialState({ ...config('b', '192.0.2.10', 100), vrid: 2 }, 0),
        c: initialState({ ...config('c', '192.0.2.10', 255), vrid: 3 }, 0),
      };
      let now = 0;
      for (let i = 0; i < 40; i++) {
        now += Math.floor(rand() * 2000);
        const member = group.members[Math.floor(rand() * 3)] ?? 'a';
        const s = states[member];
        const dueDown = s?.timers['master-down'];
        const ev: VrrpEvent = dueDown !== undefined && dueDown <= now && rand() < 0.5 ? { type: 'master-down-timer-fired' } : randomEvent(rand);
        states = stepSyncGroup(group, states, member, ev, ev.type === 'master-down-timer-fired' ? Math.max(now, dueDown ?? now) : now).states;
        const names = group.members.map((m) => states[m]?.state);
        if (names.includes('Master') && names.includes('Fault')) expect.fail(`seq ${seq} event ${i} ${member} ${JSON.stringify(ev)} -> ${names.join(',')}`);
      }
    }
  }, FUZZ_TIMEOUT_MS);
});
