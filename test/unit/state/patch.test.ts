import { describe, expect, it } from 'vitest';
import { createEvent } from '../../../src/events/types.js';
import { applyPatch, manualPatch, manualToRestore, patchFromEvent, prunePatch } from '../../../src/state/patch.js';
import { emptyState, type PersistedState } from '../../../src/state/schema.js';

const T = 1_790_000_000_000;

describe('applyPatch', () => {
  it('merges health and manual facets per real server without touching the input', () => {
    const s0 = emptyState();
    const s1 = applyPatch(s0, { realServers: { web: { a: { health: { state: 'down', since: 1 } } } } });
    const s2 = applyPatch(s1, { realServers: { web: { a: { manual: { state: 'drain', since: 2 } }, b: { health: { state: 'up', since: 3 } } } } });
    expect(s0).toEqual(emptyState());
    expect(s1.realServers).toEqual({ web: { a: { health: { state: 'down', since: 1 } } } });
    expect(s2.realServers).toEqual({
      web: { a: { health: { state: 'down', since: 1 }, manual: { state: 'drain', since: 2 } }, b: { health: { state: 'up', since: 3 } } },
    });
  });

  it('removes facets, entries and whole virtual servers set to null, and drops what becomes empty', () => {
    const s: PersistedState = {
      ...emptyState(),
      realServers: { web: { a: { manual: { state: 'maintenance', since: 1 } }, b: { health: { state: 'up', since: 1 } } }, dns: { c: { health: { state: 'up', since: 1 } } } },
      vrrp: { VI_1: { state: 'BACKUP', since: 1 } },
    };
    const next = applyPatch(s, { realServers: { web: { a: { manual: null } }, dns: null }, vrrp: { VI_1: null } });
    expect(next.realServers).toEqual({ web: { b: { health: { state: 'up', since: 1 } } } });
    expect(next.vrrp).toEqual({});
    expect(applyPatch(next, { realServers: { web: { b: null } } }).realServers).toEqual({});
  });
});

describe('patchFromEvent', () => {
  it('records rs.down / rs.up with time and reason, keyed as events name them', () => {
    const down = createEvent({ type: 'rs.down', virtualServer: 'web', realServer: '198.51.100.11:80', reason: 'HTTP 503' }, T);
    expect(patchFromEvent(down)).toEqual({ realServers: { web: { '198.51.100.11:80': { health: { state: 'down', since: T, reason: 'HTTP 503' } } } } });
    const up = createEvent({ type: 'rs.up', virtualServer: 'web', realServer: '198.51.100.11:80', reason: 'HTTP 200' }, T + 5);
    expect(patchFromEvent(up)).toEqual({ realServers: { web: { '198.51.100.11:80': { health: { state: 'up', since: T + 5, reason: 'HTTP 200' } } } } });
  });

  it('records the VRRP state an instance entered', () => {
    const e = createEvent({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down timer', priority: 150 }, T);
    expect(patchFromEvent(e)).toEqual({ vrrp: { VI_1: { state: 'MASTER', since: T, reason: 'master down timer' } } });
  });

  it('ignores everything else', () => {
    expect(patchFromEvent(createEvent({ type: 'daemon.started', version: '1' }, T))).toBeUndefined();
    expect(patchFromEvent(createEvent({ type: 'quorum.lost', virtualServer: 'web', reason: 'x' }, T))).toBeUndefined();
  });
});

describe('manual states', () => {
  it('drain/maintenance set the manual facet; enable removes it; a restart re-applies what is left', () => {
    let s = emptyState();
    s = applyPatch(s, manualPatch('web', ['a', 'b'], 'drain', T, 'kernel upgrade'));
    s = applyPatch(s, manualPatch('web', ['c'], 'maintenance', T + 1));
    s = applyPatch(s, { realServers: { web: { a: { health: { state: 'up', since: T } } } } });
    s = applyPatch(s, manualPatch('web', ['b'], 'enable', T + 2));
    expect(s.realServers.web).toEqual({
      a: { health: { state: 'up', since: T }, manual: { state: 'drain', since: T, reason: 'kernel upgrade' } },
      c: { manual: { state: 'maintenance', since: T + 1 } },
    });
    const restore = manualToRestore(s);
    expect(restore.map(({ virtualServer, realServer, action }) => ({ virtualServer, realServer, action }))).toEqual([
      { virtualServer: 'web', realServer: 'a', action: 'drain' },
      { virtualServer: 'web', realServer: 'c', action: 'maintenance' },
    ]);
    expect(restore[0]!.reason).toBe(`drain restored from saved state (set ${new Date(T).toISOString()}: kernel upgrade)`);
  });
});

describe('prunePatch', () => {
  it('forgets virtual servers, real servers and instances that are no longer configured, keeps the rest', () => {
    const s: PersistedState = {
      ...emptyState(),
      realServers: {
        web: { a: { health: { state: 'up', since: 1 } }, gone: { manual: { state: 'drain', since: 1 } } },
        old: { x: { health: { state: 'down', since: 1 } } },
      },
      vrrp: { VI_1: { state: 'MASTER', since: 1 }, VI_OLD: { state: 'BACKUP', since: 1 } },
    };
    const pruned = applyPatch(s, prunePatch(s, { web: ['a', 'b'], mail: ['c'] }, ['VI_1']));
    expect(pruned.realServers).toEqual({ web: { a: { health: { state: 'up', since: 1 } } } });
    expect(pruned.vrrp).toEqual({ VI_1: { state: 'MASTER', since: 1 } });
    expect(manualToRestore(pruned)).toEqual([]);
  });
});
