// The daemon's `status` answer carries each VRRP instance's lvs_sync state from the manager to the client.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { controlHandlers } from '../../../src/daemon/control.js';
import type { HealthWiring } from '../../../src/daemon/health-wiring.js';
import { PoolSet } from '../../../src/daemon/pools.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import type { ManagedInstanceStatus, VrrpManager } from '../../../src/vrrp/runtime/manager.js';

function config(yaml: string): LvskeepConfig {
  const r = parseConfigText(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

const YAML = `
vrrp:
  instances:
    - name: ext
      interface: eth0
      virtual_router_id: 1
      priority: 150
      virtual_ips: [192.0.2.50/24]
      lvs_sync: { interface: eth1, sync_id: 51 }
    - name: int
      interface: eth0
      virtual_router_id: 2
      priority: 150
      virtual_ips: [192.0.2.51/24]
virtual_servers: []
`;

function instance(name: string, over: Partial<ManagedInstanceStatus> = {}): ManagedInstanceStatus {
  return {
    name,
    state: 'Master',
    basePriority: 150,
    effectivePriority: 150,
    masterAddress: '192.0.2.1',
    holdingVips: true,
    faultReasons: [],
    lastChange: { at: 1000, reason: 'master down timer expired' },
    counters: { advertsSent: 0, advertsReceived: 0, sendErrors: 0, vipErrors: 0, drops: {} },
    timerLateness: { count: 0, lastMs: 0, maxMs: 0, meanMs: 0 },
    ...over,
  };
}

describe('control status handler: lvs_sync', () => {
  it('copies the manager status lvsSync into the instance, and leaves it out where there is none', async () => {
    const lvsSync = { wanted: 'master' as const, applied: 'master' as const, interface: 'eth1', syncId: 51, failures: 0 };
    const statuses = [instance('ext', { lvsSync }), instance('int')];
    // Only status() is read by the status handler; the rest of the manager is not needed here.
    const vrrp = { status: () => statuses } as unknown as VrrpManager;
    // The handler asks health only for last results of real servers, and this config has none.
    const health = { lastResult: () => undefined } as unknown as HealthWiring;
    const handlers = controlHandlers({
      config: () => config(YAML),
      pools: new PoolSet({ timers: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined }, onEvents: () => undefined, onChange: () => undefined }),
      health,
      backend: new MemoryBackend(),
      vrrp: () => vrrp,
      alerting: () => undefined,
      reload: () => Promise.resolve({ ok: false, error: 'not in this test' }),
      startedAt: 0,
      now: () => 5000,
    });
    if (!handlers.status) throw new Error('controlHandlers has no status handler');
    const result = await handlers.status({});
    expect(result.vrrp.map((v) => [v.name, v.state])).toEqual([['ext', 'MASTER'], ['int', 'MASTER']]);
    expect(result.vrrp[0]?.lvsSync).toEqual(lvsSync);
    expect(result.vrrp[1]).not.toHaveProperty('lvsSync');
  });
});
