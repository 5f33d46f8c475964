// A sync group with lvs_sync: on becoming master its members add and announce their VIPs in one burst, and
// the sync-daemon changes come after, never in between; on leaving master both members' VIPs go first too.
// One log records, in order, VIP adds/removes, gratuitous ARPs and sync-daemon requests.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { VrrpConfig } from '../../../src/config/types.js';
import type { DaemonConfig } from '../../../src/ipvs/netlink/attrs.js';
import { createVrrpManager } from '../../../src/vrrp/runtime/manager.js';
import type { SyncDaemonState } from '../../../src/vrrp/runtime/lvs-sync.js';
import type { Vip } from '../../../src/vip/types.js';
import { FakeSyncKernel } from './fake-sync-kernel.js';
import { FakeAnnouncer, FakeVips, managerFixture, stopManager } from './fakes.js';

function vrrpConfig(): VrrpConfig {
  const inst = (name: string, vrid: number, vips: string, extra: string[] = []): string[] => [
    `    - name: ${name}`,
    '      interface: eth0',
    `      virtual_router_id: ${vrid}`,
    '      priority: 150',
    '      advert_interval: 1s',
    `      virtual_ips: [${vips}]`,
    '      garp: { repeat: 2, interval: 100ms }',
    ...extra.map((l) => `      ${l}`),
  ];
  const text = [
    'vrrp:',
    '  instances:',
    ...inst('ext', 1, '192.0.2.50/24', ['lvs_sync: { interface: eth1, sync_id: 9 }']),
    ...inst('int', 2, '192.0.2.51/24, 192.0.2.52/24', ['track: { interfaces: [{ name: eth1 }] }']),
    '  sync_groups:',
    '    - name: nat',
    '      instances: [ext, int]',
  ].join('\n');
  const r = parseConfigText(text, 'test.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config.vrrp;
}

class OrderedVips extends FakeVips {
  constructor(private readonly order: string[]) {
    super();
  }
  override add(vip: Vip): Promise<void> {
    this.order.push(`add ${vip.address}`);
    return super.add(vip);
  }
  override remove(vip: Vip): Promise<void> {
    this.order.push(`remove ${vip.address}`);
    return super.remove(vip);
  }
}

class OrderedAnnouncer extends FakeAnnouncer {
  constructor(private readonly order: string[]) {
    super();
  }
  override sendOnce(vip: Vip): Promise<void> {
    this.order.push(`garp ${vip.address}`);
    return super.sendOnce(vip);
  }
}

class OrderedKernel extends FakeSyncKernel {
  constructor(private readonly order: string[]) {
    super();
  }
  override startDaemon(d: DaemonConfig): Promise<void> {
    this.order.push(`sync start ${d.state}`);
    return super.startDaemon(d);
  }
  override stopDaemon(state: SyncDaemonState): Promise<void> {
    this.order.push(`sync stop ${state}`);
    return super.stopDaemon(state);
  }
  override daemons(): Promise<DaemonConfig[]> {
    this.order.push('sync get');
    return super.daemons();
  }
}

const VIPS = ['192.0.2.50', '192.0.2.51', '192.0.2.52'];

/** Every VIP added (or removed) and, when becoming master, announced, before the first sync-daemon request. */
function expectVipsBeforeSync(order: string[], from: number, op: 'add' | 'remove'): void {
  const part = order.slice(from);
  const firstSync = part.findIndex((e) => e.startsWith('sync '));
  expect(firstSync, part.join('\n')).toBeGreaterThan(0);
  const before = part.slice(0, firstSync);
  for (const v of VIPS) {
    expect(before, part.join('\n')).toContain(`${op} ${v}`);
    if (op === 'add') expect(before, part.join('\n')).toContain(`garp ${v}`);
  }
  // ... and no VIP change after a sync-daemon request
  expect(part.slice(firstSync).filter((e) => e.startsWith('add ') || e.startsWith('remove ')), part.join('\n')).toEqual([]);
}

describe('manager: sync group VIPs before sync daemons', () => {
  it('becoming master: all members add and announce their VIPs, then the sync daemon switches; leaving: VIPs first again', async () => {
    const order: string[] = [];
    const f = managerFixture(['eth0', 'eth1']);
    const kernel = new OrderedKernel(order);
    const deps = { ...f.deps, vipManager: new OrderedVips(order), announcer: new OrderedAnnouncer(order), linkPollMs: 100, syncDaemonBackend: () => Promise.resolve(kernel) };
    const m = createVrrpManager(vrrpConfig(), deps);
    await m.start();
    await f.timers.advance(100);
    expect(kernel.states()).toEqual(['backup']);
    const masterAt = order.length;
    await f.timers.advance(4000);
    expect(m.status().map((s) => s.state)).toEqual(['Master', 'Master']);
    expect(kernel.states()).toEqual(['backup', 'master']);
    expectVipsBeforeSync(order, masterAt, 'add');

    const faultAt = order.length;
    f.operstate.set('eth1', 'down');
    await f.timers.advance(300);
    expect(m.status().map((s) => s.state)).toEqual(['Fault', 'Fault']);
    expect(kernel.states()).toEqual(['backup']);
    expectVipsBeforeSync(order, faultAt, 'remove');
    await stopManager(m, f.timers);
    expect(kernel.states()).toEqual([]);
  });
});
