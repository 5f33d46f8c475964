import { describe, expect, it } from 'vitest';
import {
  advertWins,
  initialState,
  masterDownInterval,
  skewTime,
  step,
  type StepResult,
  type VrrpAction,
  type VrrpEvent,
  type VrrpInstanceState,
} from '../../../src/vrrp/state-machine.js';
import { config } from './sim.js';

// Master_Down for priority 100, interval 1 s (v3): 3000 + (156 * 100 * 10) / 256 = 3609.375 ms.
const MDI_100 = 3609.375;
const SKEW_100 = 609.375;

function run(state: VrrpInstanceState, events: [VrrpEvent, number][]): StepResult {
  let res: StepResult = { state, actions: [] };
  for (const [ev, now] of events) {
    res = step(res.state, ev, now);
    assertTransitionsHaveReasons(res.actions);
  }
  return res;
}

function assertTransitionsHaveReasons(actions: VrrpAction[]): void {
  for (const a of actions) {
    if (a.type.startsWith('become-') || a.type === 'release-vips' || a.type === 'announce-vips') {
      expect((a as { reason: string }).reason.length, `${a.type} without reason`).toBeGreaterThan(5);
    }
  }
}

function only<T extends VrrpAction['type']>(actions: VrrpAction[], type: T): Extract<VrrpAction, { type: T }>[] {
  return actions.filter((a): a is Extract<VrrpAction, { type: T }> => a.type === type);
}

const advert = (priority: number, src: string, maxAdvertIntervalCs = 100): VrrpEvent => ({ type: 'advert-received', priority, src, maxAdvertIntervalCs });

function backup(priority = 100, extra = {}): VrrpInstanceState {
  return run(initialState(config('r', '192.0.2.10', priority, extra), 0), [[{ type: 'startup' }, 0]]).state;
}

function master(priority = 100, extra = {}): VrrpInstanceState {
  const s = backup(priority, extra);
  return run(s, [[{ type: 'master-down-timer-fired' }, s.timers['master-down'] ?? 0]]).state;
}

describe('Initialize', () => {
  it('startup of a non-owner enters Backup with Master_Down_Interval armed', () => {
    const r = step(initialState(config('r', '192.0.2.10', 100), 0), { type: 'startup' }, 1000);
    expect(r.state.state).toBe('Backup');
    expect(r.actions).toEqual([
      { type: 'set-timer', timer: 'master-down', at: 1000 + MDI_100 },
      { type: 'become-backup', from: 'Initialize', reason: 'startup', releaseVips: false },
    ]);
  });

  it('startup of the address owner (255) goes straight to Master: advert, advert timer, VIPs', () => {
    const r = step(initialState(config('r', '192.0.2.10', 255, { acceptMode: true }), 0), { type: 'startup' }, 0);
    expect(r.state.state).toBe('Master');
    expect(r.actions).toEqual([
      { type: 'become-master', from: 'Initialize', reason: 'startup; priority 255 (address owner)', acceptMode: true, vipsHeld: false },
      { type: 'send-advert', priority: 255 },
      { type: 'set-timer', timer: 'advert', at: 1000 },
    ]);
  });

  it('adverts and timers are ignored before startup', () => {
    const s = initialState(config('r', '192.0.2.10', 100), 0);
    expect(step(s, advert(200, '192.0.2.1'), 0).state).toEqual(s);
    expect(step(s, { type: 'master-down-timer-fired' }, 9e9).state.state).toBe('Initialize');
  });

  it('a fault before startup makes startup enter Fault', () => {
    const r = run(initialState(config('r', '192.0.2.10', 100), 0), [
      [{ type: 'fault', reason: 'interface eth1 down' }, 0],
      [{ type: 'startup' }, 1],
    ]);
    expect(r.state.state).toBe('Fault');
    expect(only(r.actions, 'become-fault')[0]).toMatchObject({ from: 'Initialize', releaseVips: false });
  });
});

describe('Backup', () => {
  it('becomes Master when Master_Down expires: VIPs first, then the advert', () => {
    const s = backup();
    const r = step(s, { type: 'master-down-timer-fired' }, MDI_100);
    expect(r.state.state).toBe('Master');
    expect(r.actions).toEqual([
      { type: 'cancel-timer', timer: 'master-down' },
      { type: 'become-master', from: 'Backup', reason: 'Master_Down_Interval expired: no master heard', acceptMode: false, vipsHeld: false },
      { type: 'send-advert', priority: 100 },
      { type: 'set-timer', timer: 'advert', at: MDI_100 + 1000 },
    ]);
  });

  it('a stale or early master-down expiry is ignored', () => {
    const s = backup();
    const early = step(s, { type: 'master-down-timer-fired' }, MDI_100 - 1);
    expect(early.state.state).toBe('Backup');
    expect(only(early.actions, 'log')[0]?.message).toMatch(/stale master-down/);
  });

  it('a higher-priority advert resets Master_Down and learns the master advert interval (v3)', () => {
    const s = backup();
    const r = step(s, advert(150, '192.0.2.1', 50), 2000);
    // 3 * 500 + 156 * 500 / 256 = 1500 + 304.6875
    expect(r.state.masterAdverIntervalCs).toBe(50);
    expect(r.actions).toContainEqual({ type: 'set-timer', timer: 'master-down', at: 2000 + 1804.6875 });
    expect(r.state.master).toEqual({ src: '192.0.2.1', priority: 150 });
  });

  it('an out-of-range advertised interval is not learned (the event may come from a buggy adapter)', () => {
    const r = step(backup(), advert(150, '192.0.2.1', 0), 0);
    expect(r.state.masterAdverIntervalCs).toBe(100);
  });

  it('VRRPv2 never learns the interval and uses Skew_Time = (256 - p)/256 s', () => {
    const s = backup(100, { version: 2, intervalCs: 300 });
    expect(s.timers['master-down']).toBe(9000 + SKEW_100);
    const r = step(s, advert(150, '192.0.2.1', 100), 10);
    expect(r.state.masterAdverIntervalCs).toBe(300);
    expect(r.state.timers['master-down']).toBe(10 + 9000 + SKEW_100);
  });

  it('a priority-0 advert (master leaving) shortens the wait to Skew_Time only', () => {
    const s = run(backup(), [[advert(150, '192.0.2.1'), 100]]).state;
    const r = step(s, advert(0, '192.0.2.1'), 500);
    expect(r.state.timers['master-down']).toBe(500 + SKEW_100);
    const m = step(r.state, { type: 'master-down-timer-fired' }, 500 + SKEW_100);
    expect(m.state.state).toBe('Master');
  });

  it('preempt: a lower-priority advert is discarded, so the higher backup takes over at Master_Down', () => {
    const s = backup(200);
    const r = step(s, advert(100, '192.0.2.1'), 1000);
    expect(r.state.timers['master-down']).toBe(s.timers['master-down']);
    expect(only(r.actions, 'set-timer')).toEqual([]);
    expect(only(r.actions, 'log')[0]?.message).toMatch(/lower priority advert from 192\.0\.2\.1 \(priority 100\) discarded/);
    expect(step(r.state, { type: 'master-down-timer-fired' }, s.timers['master-down'] ?? 0).state.state).toBe('Master');
  });

  it('nopreempt: a lower-priority master is accepted and keeps us Backup', () => {
    const s = backup(200, { preempt: false });
    const r = step(s, advert(100, '192.0.2.1'), 1000);
    expect(r.state.timers['master-down']).toBe(1000 + masterDownInterval(r.state));
  });

  it('equal priority in Backup resets the timer (RFC: >= local priority), whatever the addresses', () => {
    const s = backup(100);
    const r = step(s, advert(100, '192.0.2.1'), 1000);
    expect(r.state.timers['master-down']).toBe(1000 + MDI_100);
  });

  it('preempt_delay: a lower master is tolerated for the delay after its first advert, then preempted', () => {
    let s = backup(200, { preemptDelayMs: 5000 });
    const mdi = masterDownInterval(s);
    s = step(s, advert(100, '192.0.2.1'), 1000).state; // starts the delay, accepted
    expect(s.preemptDelayUntil).toBe(6000);
    expect(s.timers['master-down']).toBe(1000 + mdi);
    s = step(s, advert(100, '192.0.2.1'), 5000).state; // still inside the delay: accepted
    expect(s.timers['master-down']).toBe(5000 + mdi);
    const after = step(s, advert(100, '192.0.2.1'), 6000); // delay over: discarded
    expect(after.state.timers['master-down']).toBe(5000 + mdi);
    expect(step(after.state, { type: 'master-down-timer-fired' }, 5000 + mdi).state.state).toBe('Master');
  });

  it('preempt_delay is cancelled by a higher or equal advert', () => {
    let s = backup(200, { preemptDelayMs: 5000 });
    s = step(s, advert(100, '192.0.2.1'), 1000).state;
    s = step(s, advert(220, '192.0.2.2'), 2000).state;
    expect(s.preemptDelayUntil).toBeUndefined();
  });

  it('priority-changed moves a running Master_Down deadline by the change in Skew_Time', () => {
    const s = backup(100);
    const r = step(s, { type: 'priority-changed', priority: 200, reason: 'pool web up +100' }, 10);
    // Skew at 200: 56 * 1000 / 256 = 218.75; at 100: 609.375.
    expect(r.state.timers['master-down']).toBe(MDI_100 - (609.375 - 218.75));
    expect(r.state.priority).toBe(200);
    expect(only(r.actions, 'log')[0]?.message).toBe('(r) effective priority 100 -> 200: pool web up +100');
  });

  it('priority-changed outside 1..255 is refused with a warning', () => {
    const r = step(backup(), { type: 'priority-changed', priority: 0, reason: 'bug' }, 0);
    expect(r.state.priority).toBe(100);
    expect(only(r.actions, 'log')[0]).toMatchObject({ level: 'warn' });
  });
});

describe('Master', () => {
  it('advert timer: send and re-arm; stale advert timers are ignored', () => {
    const m = master();
    const due = m.timers.advert ?? 0;
    const r = step(m, { type: 'advert-timer-fired' }, due);
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 100 },
      { type: 'set-timer', timer: 'advert', at: due + 1000 },
    ]);
    expect(only(step(m, { type: 'advert-timer-fired' }, due - 1).actions, 'send-advert')).toEqual([]);
  });

  it('a higher-priority advert makes it step down at once, learning the new interval', () => {
    const m = master(100);
    const r = step(m, advert(150, '192.0.2.1', 200), 5000);
    expect(r.state.state).toBe('Backup');
    expect(r.state.masterAdverIntervalCs).toBe(200);
    expect(r.actions).toEqual([
      { type: 'cancel-timer', timer: 'advert' },
      { type: 'set-timer', timer: 'master-down', at: 5000 + 6000 + (156 * 2000) / 256 },
      { type: 'become-backup', from: 'Master', reason: 'higher priority advert from 192.0.2.1 (priority 150), ours 100', releaseVips: true },
    ]);
  });

  it('split brain: a lower-priority master is answered at once and the VIPs re-announced', () => {
    const m = master(150);
    const r = step(m, advert(100, '192.0.2.1'), 5000);
    expect(r.state.state).toBe('Master');
    expect(r.actions.slice(0, 2)).toEqual([
      { type: 'send-advert', priority: 150 },
      { type: 'announce-vips', reason: 'lower priority master 192.0.2.1 (priority 100) seen' },
    ]);
  });

  it('a priority-0 advert from another router is answered at once and the advert timer reset', () => {
    const m = master(150);
    const r = step(m, advert(0, '192.0.2.1'), 5000);
    expect(r.actions.slice(0, 2)).toEqual([
      { type: 'send-advert', priority: 150 },
      { type: 'set-timer', timer: 'advert', at: 6000 },
    ]);
  });

  it('two address owners: ours drops to 254 (keepalived), so the other owner wins', () => {
    const m = master(255);
    const r = step(m, advert(255, '192.0.2.1'), 10);
    expect(r.state.priority).toBe(254);
    expect(r.state.state).toBe('Backup');
    expect(only(r.actions, 'log')[0]).toMatchObject({ level: 'warn', message: expect.stringMatching(/CONFIGURATION ERROR/) });
  });

  it('our own advert looped back is ignored with a warning', () => {
    const m = master(100);
    const r = step(m, advert(100, '192.0.2.10'), 10);
    expect(r.state).toEqual(m);
    expect(only(r.actions, 'log')[0]).toMatchObject({ level: 'warn' });
  });

  it('accept mode is carried to the adapter on become-master', () => {
    const r = step(backup(100, { acceptMode: true }), { type: 'master-down-timer-fired' }, MDI_100);
    expect(only(r.actions, 'become-master')[0]?.acceptMode).toBe(true);
  });
});

describe('tie-break on equal priority: the numerically higher primary address wins', () => {
  it.each([
    ['192.0.2.9', '192.0.2.10', true], // numeric, not string order
    ['192.0.2.10', '192.0.2.9', false],
    ['fe80::9', 'fe80::10', true],
    ['fe80::ffff', 'fe80::1:0', true],
    ['fe80::1:0', 'FE80::FFFF', false],
  ])('ours %s, advert from %s -> advert wins: %s', (ours, theirs, wins) => {
    expect(advertWins(100, theirs, 100, ours)).toBe(wins);
    const m = master(100);
    const mine = { ...m, config: { ...m.config, primaryAddress: ours } };
    const r = step(mine, advert(100, theirs), 5000);
    expect(r.state.state).toBe(wins ? 'Backup' : 'Master');
    if (wins) expect(only(r.actions, 'become-backup')[0]?.reason).toMatch(/equal priority 100 from higher address/);
    else expect(only(r.actions, 'announce-vips')).toHaveLength(1);
  });
});

describe('Fault', () => {
  it('Master -> Fault sends priority 0, cancels timers and releases the VIPs', () => {
    const r = step(master(), { type: 'fault', reason: 'pool web down (weight 0)' }, 10);
    expect(r.state.state).toBe('Fault');
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 0 },
      { type: 'cancel-timer', timer: 'advert' },
      { type: 'become-fault', from: 'Master', reason: 'pool web down (weight 0)', releaseVips: true },
    ]);
  });

  it('with the link down (canSend false) nothing is sent', () => {
    const r = step(master(), { type: 'fault', reason: 'eth1 down', canSend: false }, 10);
    expect(only(r.actions, 'send-advert')).toEqual([]);
  });

  it('Backup -> Fault cancels Master_Down; adverts are ignored in Fault; fault-cleared returns to Backup', () => {
    const f = step(backup(), { type: 'fault', reason: 'eth1 down' }, 10);
    expect(f.actions).toContainEqual({ type: 'cancel-timer', timer: 'master-down' });
    expect(step(f.state, advert(200, '192.0.2.1'), 20).state).toEqual(f.state);
    const c = step(f.state, { type: 'fault-cleared', reason: 'eth1 up' }, 30);
    expect(c.state.state).toBe('Backup');
    expect(c.state.timers['master-down']).toBe(30 + MDI_100);
    expect(only(c.actions, 'become-backup')[0]?.reason).toBe('fault cleared: eth1 up');
  });

  it('the owner leaves Fault straight to Master', () => {
    const s = master(255);
    const f = step(s, { type: 'fault', reason: 'x' }, 1).state;
    expect(step(f, { type: 'fault-cleared', reason: 'y' }, 2).state.state).toBe('Master');
  });

  it('repeated fault events do not re-enter Fault', () => {
    const f = step(master(), { type: 'fault', reason: 'a' }, 1).state;
    expect(step(f, { type: 'fault', reason: 'b' }, 2).actions).toEqual([]);
  });
});

describe('shutdown', () => {
  it('Master sends priority 0 and releases the VIPs', () => {
    const r = step(master(), { type: 'shutdown' }, 10);
    expect(r.state.state).toBe('Initialize');
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 0 },
      { type: 'cancel-timer', timer: 'advert' },
      { type: 'become-initialize', from: 'Master', reason: 'shutdown (sent priority 0)', releaseVips: true },
    ]);
  });
  it('Backup just stops its timer', () => {
    const r = step(backup(), { type: 'shutdown' }, 10);
    expect(r.actions).toEqual([
      { type: 'cancel-timer', timer: 'master-down' },
      { type: 'become-initialize', from: 'Backup', reason: 'shutdown', releaseVips: false },
    ]);
  });
});

describe('planned step-down (make-before-break)', () => {
  it('sends priority 0 but keeps the VIPs until the new master is heard', () => {
    const m = master(200);
    const r = step(m, { type: 'step-down-requested', reason: 'maintenance' }, 100);
    expect(r.state.state).toBe('Backup');
    expect(r.state.holdingVips).toBe(true);
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 0 },
      { type: 'cancel-timer', timer: 'advert' },
      { type: 'become-backup', from: 'Master', reason: 'planned step-down: maintenance', releaseVips: false },
      { type: 'set-timer', timer: 'step-down', at: 100 + masterDownInterval(m) },
    ]);
    const heard = step(r.state, advert(100, '192.0.2.1'), 400);
    expect(heard.state.holdingVips).toBe(false);
    expect(heard.actions).toContainEqual({ type: 'cancel-timer', timer: 'step-down' });
    expect(heard.actions).toContainEqual({ type: 'release-vips', reason: 'step-down complete: new master 192.0.2.1 (priority 100)' });
    // Preemption is suppressed after a step-down: the lower new master is accepted, not preempted.
    expect(heard.state.timers['master-down']).toBe(400 + masterDownInterval(heard.state));
    const resumed = step(heard.state, { type: 'preempt-resume', reason: 'maintenance over' }, 500);
    const lower = step(resumed.state, advert(100, '192.0.2.1'), 600);
    expect(lower.state.timers['master-down']).toBe(heard.state.timers['master-down']);
  });

  it('releases at the bound when no new master shows up, then competes normally', () => {
    const s = step(master(200, { stepDownHoldMs: 2500 }), { type: 'step-down-requested', reason: 'test' }, 100).state;
    expect(step(s, { type: 'step-down-timer-fired' }, 2599).actions).toEqual([{ type: 'log', level: 'info', message: '(r) stale step-down timer ignored' }]);
    const r = step(s, { type: 'step-down-timer-fired' }, 2600);
    expect(r.actions[0]).toEqual({ type: 'cancel-timer', timer: 'step-down' });
    expect(r.actions[1]).toMatchObject({ type: 'release-vips', reason: expect.stringMatching(/no new master advert within 2500 ms/) });
    expect(r.state.timers['master-down']).toBe(2600 + masterDownInterval(r.state));
  });

  it('a lower advert during step-down after preempt-resume releases the VIPs and still arms Master_Down (found by fuzzing)', () => {
    let s = step(master(200), { type: 'step-down-requested', reason: 'test' }, 100).state;
    s = step(s, { type: 'preempt-resume', reason: 'changed my mind' }, 200).state;
    const r = step(s, advert(100, '192.0.2.1'), 300);
    expect(r.state.holdingVips).toBe(false);
    expect(r.state.timers['master-down']).toBe(300 + masterDownInterval(r.state));
    expect(step(r.state, { type: 'master-down-timer-fired' }, 300 + masterDownInterval(r.state)).state.state).toBe('Master');
  });

  it('is refused outside Master', () => {
    const r = step(backup(), { type: 'step-down-requested', reason: 'x' }, 1);
    expect(r.state.state).toBe('Backup');
    expect(only(r.actions, 'send-advert')).toEqual([]);
  });
});

describe('timer helpers', () => {
  it('skewTime and masterDownInterval use the effective priority and learned interval', () => {
    const s = backup(100);
    expect(skewTime(s)).toBe(SKEW_100);
    expect(masterDownInterval(s)).toBe(MDI_100);
    expect(masterDownInterval({ ...s, masterAdverIntervalCs: 10 })).toBe(300 + 60.9375);
  });
});
