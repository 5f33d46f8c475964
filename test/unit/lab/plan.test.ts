import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../../src/config/load.js';
import { directorConfig } from '../../../src/lab/plan.js';

const base = readFileSync(join(import.meta.dirname, '..', '..', '..', 'config', 'lab.yaml'), 'utf8');

interface Doc {
  global: { router_id: string; state_dir: string };
  control: { socket: string };
  vrrp: { instances: { name: string; priority: number; unicast_source?: string; unicast_peers?: string[]; virtual_ips: unknown[] }[]; sync_groups?: unknown[] };
  virtual_servers: { forwarding: string; real_servers: { address: string; weight: number }[] }[];
}

describe('lab director configs from config/lab.yaml', () => {
  it('d1 keeps the shipped addresses and priority 150', () => {
    const d = parse(directorConfig(base, { director: 'd1', mode: 'nat' })) as Doc;
    expect(d.global.router_id).toBe('lab-d1');
    expect(d.vrrp.instances.map((i) => [i.name, i.priority, i.unicast_source, i.unicast_peers])).toEqual([
      ['lab-vip', 150, '203.0.113.2', ['203.0.113.3']],
    ]);
    // Both VIPs in one instance, so that one burst of gratuitous ARP moves both.
    expect(d.vrrp.instances[0]?.virtual_ips).toEqual(['203.0.113.10/24', { address: '198.51.100.1/24', dev: 'eth1' }]);
  });

  it('d2 gets priority 100, swapped unicast addresses, its own state dir and socket', () => {
    const d = parse(directorConfig(base, { director: 'd2', mode: 'nat' })) as Doc;
    expect(d.global).toMatchObject({ router_id: 'lab-d2', state_dir: '/run/lvskeep-lab/d2' });
    expect(d.control.socket).toBe('/run/lvskeep-lab/d2/lvskeep.sock');
    expect(d.vrrp.instances.map((i) => [i.priority, i.unicast_source, i.unicast_peers])).toEqual([
      [100, '203.0.113.3', ['203.0.113.2']],
    ]);
  });

  it('dr drops the gateway VIP and switches forwarding', () => {
    const d = parse(directorConfig(base, { director: 'd1', mode: 'dr' })) as Doc;
    expect(d.vrrp.instances.map((i) => [i.name, i.virtual_ips])).toEqual([['lab-vip', ['203.0.113.10/24']]]);
    expect(d.virtual_servers[0]?.forwarding).toBe('dr');
  });

  it('dr drops a gateway instance and its sync group from a base that has them', () => {
    // The older layout: the gateway VIP in an instance of its own on eth1, tied to lab-vip by a sync group.
    const withGw = base
      .replace('        - { address: 198.51.100.1/24, dev: eth1 }\n', '')
      .replace(
        '\nvirtual_servers:',
        '    - { name: lab-gw, interface: eth1, virtual_router_id: 43, priority: 150, advert_interval: 250ms, virtual_ips: [198.51.100.1/24] }\n  sync_groups:\n    - { name: lab, instances: [lab-vip, lab-gw] }\n\nvirtual_servers:',
      );
    expect(withGw).toContain('name: lab-gw');
    const d = parse(directorConfig(withGw, { director: 'd1', mode: 'dr' })) as Doc;
    expect(d.vrrp.instances.map((i) => i.name)).toEqual(['lab-vip']);
    expect(d.vrrp.sync_groups).toEqual([]);
  });

  it('weight overrides apply to the named real server only', () => {
    const d = parse(directorConfig(base, { director: 'd1', mode: 'nat', weights: { '198.51.100.11': 3 } })) as Doc;
    expect(d.virtual_servers[0]?.real_servers.map((r) => r.weight)).toEqual([3, 1, 1]);
  });

  it.each([
    ['d1', 'nat'],
    ['d2', 'nat'],
    ['d1', 'dr'],
    ['d2', 'dr'],
  ] as const)('the %s %s config is valid for lvskeep check', async (director, mode) => {
    const r = parseConfigText(directorConfig(base, { director, mode }), `${director}-${mode}.yaml`, {});
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('a base without vrrp.instances is refused by name', () => {
    expect(() => directorConfig('virtual_servers: []\n', { director: 'd1', mode: 'nat' })).toThrow(/vrrp.instances is missing/);
  });
});
