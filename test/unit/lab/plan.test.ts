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
  vrrp: { instances: { name: string; priority: number; unicast_source?: string; unicast_peers?: string[] }[]; sync_groups: unknown[] };
  virtual_servers: { forwarding: string; real_servers: { address: string; weight: number }[] }[];
}

describe('lab director configs from config/lab.yaml', () => {
  it('d1 keeps the shipped addresses and priority 150', () => {
    const d = parse(directorConfig(base, { director: 'd1', mode: 'nat' })) as Doc;
    expect(d.global.router_id).toBe('lab-d1');
    expect(d.vrrp.instances.map((i) => [i.name, i.priority, i.unicast_source, i.unicast_peers])).toEqual([
      ['lab-vip', 150, '203.0.113.2', ['203.0.113.3']],
      ['lab-gw', 150, '198.51.100.2', ['198.51.100.3']],
    ]);
  });

  it('d2 gets priority 100, swapped unicast addresses, its own state dir and socket', () => {
    const d = parse(directorConfig(base, { director: 'd2', mode: 'nat' })) as Doc;
    expect(d.global).toMatchObject({ router_id: 'lab-d2', state_dir: '/run/lvskeep-lab/d2' });
    expect(d.control.socket).toBe('/run/lvskeep-lab/d2/lvskeep.sock');
    expect(d.vrrp.instances.map((i) => [i.priority, i.unicast_source, i.unicast_peers])).toEqual([
      [100, '203.0.113.3', ['203.0.113.2']],
      [100, '198.51.100.3', ['198.51.100.2']],
    ]);
    expect(d.vrrp.sync_groups).toHaveLength(1);
  });

  it('dr drops the gateway instance and its sync group and switches forwarding', () => {
    const d = parse(directorConfig(base, { director: 'd1', mode: 'dr' })) as Doc;
    expect(d.vrrp.instances.map((i) => i.name)).toEqual(['lab-vip']);
    expect(d.vrrp.sync_groups).toEqual([]);
    expect(d.virtual_servers[0]?.forwarding).toBe('dr');
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
