import { describe, expect, it } from 'vitest';
import { initialState, type VrrpEvent, type VrrpInstanceState } from '../../../src/vrrp/state-machine.js';
import { groupState, stepSyncGroup, type MemberAction, type SyncGroup } from '../../../src/vrrp/sync-group.js';
import { config } from './sim.js';

const group: SyncGroup = { name: 'G', members: ['outside', 'inside'] };

class GroupRun {
  states: Record<string, VrrpInstanceState>;
  actions: MemberAction[] = [];
  constructor(priority = 100) {
    this.states = {
      outside: initialState({ ...config('outside', '192.0.2.10', priority), vrid: 1 }, 0),
      inside: initialState({ ...config('inside', '198.51.100.10', priority), vrid: 2, vips: ['198.51.100.1'] }, 0),
    };
  }
  ev(member: string, event: VrrpEvent, now: number): MemberAction[] {
    const r = stepSyncGroup(group, this.states, member, event, now);
    this.states = r.states;
    this.actions = r.actions;
    return r.actions;
  }
  state(m: string): string {
    return this.states[m]?.state ?? 'missing';
  }
  due(m: string): number {
    return this.states[m]?.timers['master-down'] ?? NaN;
  }
}

function started(priority = 100): GroupRun {
  const g = new GroupRun(priority);
  g.ev('outside', { type: 'startup' }, 0);
  g.ev('inside', { type: 'startup' }, 10);
  return g;
}

describe('sync group', () => {
  it('a member whose Master_Down expires first is held until the others want Master too, then all go together', () => {
    const g = started();
    const held = g.ev('outside', { type: 'master-down-timer-fired' }, g.due('outside'));
    expect(g.state('outside')).toBe('Backup');
    expect(g.states.outside?.wantsMaster).toBe(true);
    expect(held.some((a) => a.action.type === 'log' && /sync group members cannot all be master/.test(a.action.message))).toBe(true);
    g.ev('inside', { type: 'master-down-timer-fired' }, g.due('inside'));
    expect(g.state('outside')).toBe('Master');
    expect(g.state('inside')).toBe('Master');
    const becomes = g.actions.filter((a) => a.action.type === 'become-master').map((a) => a.instance);
    expect(becomes.sort()).toEqual(['inside', 'outside']);
    expect(groupState(group, g.states)).toBe('Master');
  });

  it('one member going to Fault takes the others to Fault (the master sends priority 0)', () => {
    const g = started();
    g.ev('outside', { type: 'master-down-timer-fired' }, g.due('outside'));
    g.ev('inside', { type: 'master-down-timer-fired' }, g.due('inside'));
    const acts = g.ev('inside', { type: 'fault', reason: 'eth2 down' }, 5000);
    expect(g.state('outside')).toBe('Fault');
    expect(g.state('inside')).toBe('Fault');
    expect(acts).toContainEqual({ instance: 'outside', action: { type: 'send-advert', priority: 0 } });
    expect(acts.find((a) => a.instance === 'outside' && a.action.type === 'become-fault')?.action).toMatchObject({ reason: 'sync group G: inside is in fault', releaseVips: true });
    expect(groupState(group, g.states)).toBe('Fault');
  });

  it('the group leaves Fault only when no member has its own fault', () => {
    const g = started();
    g.ev('inside', { type: 'fault', reason: 'eth2 down' }, 100);
    g.ev('outside', { type: 'fault', reason: 'eth1 down' }, 200);
    g.ev('inside', { type: 'fault-cleared', reason: 'eth2 up' }, 300);
    expect(g.state('inside')).toBe('Fault');
    expect(g.state('outside')).toBe('Fault');
    g.ev('outside', { type: 'fault-cleared', reason: 'eth1 up' }, 400);
    expect(g.state('inside')).toBe('Backup');
    expect(g.state('outside')).toBe('Backup');
  });

  it('one master stepping down to Backup takes the other masters to Backup', () => {
    const g = started();
    g.ev('outside', { type: 'master-down-timer-fired' }, g.due('outside'));
    g.ev('inside', { type: 'master-down-timer-fired' }, g.due('inside'));
    g.ev('outside', { type: 'advert-received', priority: 200, maxAdvertIntervalCs: 100, src: '192.0.2.20' }, 6000);
    expect(g.state('outside')).toBe('Backup');
    expect(g.state('inside')).toBe('Backup');
    expect(g.actions.find((a) => a.instance === 'inside' && a.action.type === 'become-backup')?.action).toMatchObject({ releaseVips: true, reason: 'sync group G: outside Master -> Backup' });
  });

  it('a planned step-down of one member steps the whole group down, keeping every VIP until the new masters are heard', () => {
    const g = started();
    g.ev('outside', { type: 'master-down-timer-fired' }, g.due('outside'));
    g.ev('inside', { type: 'master-down-timer-fired' }, g.due('inside'));
    const acts = g.ev('inside', { type: 'step-down-requested', reason: 'maintenance' }, 6000);
    expect(g.state('outside')).toBe('Backup');
    expect(g.states.outside?.holdingVips).toBe(true);
    expect(g.states.inside?.holdingVips).toBe(true);
    expect(acts).toContainEqual({ instance: 'outside', action: { type: 'send-advert', priority: 0 } });
    expect(acts.filter((a) => a.action.type === 'become-backup').every((a) => a.action.type === 'become-backup' && !a.action.releaseVips)).toBe(true);
  });

  it('a held member that hears a master stops wanting Master', () => {
    const g = started();
    g.ev('outside', { type: 'master-down-timer-fired' }, g.due('outside'));
    g.ev('outside', { type: 'advert-received', priority: 200, maxAdvertIntervalCs: 100, src: '192.0.2.20' }, 4000);
    expect(g.states.outside?.wantsMaster).toBe(false);
    g.ev('inside', { type: 'master-down-timer-fired' }, g.due('inside'));
    expect(g.state('inside')).toBe('Backup');
    expect(g.states.inside?.wantsMaster).toBe(true);
  });

  it('rejects an unknown member with the group named', () => {
    const g = started();
    expect(() => stepSyncGroup(group, g.states, 'dmz', { type: 'startup' }, 0)).toThrow(/sync group G: "dmz" is not a member/);
  });
});
