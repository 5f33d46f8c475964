import { describe, expect, it } from 'vitest';

import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { directorInterfaces, PrepareError, prepareDirector, wantedDirectorSysctls } from '../../../src/director/prepare.js';
import { defaultSysctls, FakeSysctls } from './fakes.js';

function config(text: string): LvskeepConfig {
  const r = parseConfigText(text, 'test.yaml', {});
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

const vrrp = `
vrrp:
  instances:
    - name: public
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      track: { interfaces: [{ name: eth2 }] }
    - name: gateway
      interface: eth1
      virtual_router_id: 52
      virtual_ips: [{ address: 198.51.100.1/24, dev: eth1.100 }]
`;
const service = (forwarding: string, address = '203.0.113.10:80') => `
  - name: web-${forwarding}
    address: "${address}"
    protocol: tcp
    forwarding: ${forwarding}
    real_servers: [{ address: "${address.startsWith('[') ? '[2001:db8::11]:80' : '198.51.100.11:80'}" }]
`;

describe('wantedDirectorSysctls', () => {
  it('NAT: ip_forward=1 and send_redirects=0 on all, default and every interface the config names', () => {
    const c = config(`${vrrp}virtual_servers:${service('nat')}`);
    expect(directorInterfaces(c)).toEqual(['eth0', 'eth1', 'eth1.100', 'eth2']);
    expect(wantedDirectorSysctls(c).map((s) => `${s.key}=${s.value}`)).toEqual([
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.send_redirects=0',
      'net.ipv4.conf.default.send_redirects=0',
      'net.ipv4.conf.eth0.send_redirects=0',
      'net.ipv4.conf.eth1.send_redirects=0',
      'net.ipv4.conf.eth1/100.send_redirects=0',
      'net.ipv4.conf.eth2.send_redirects=0',
    ]);
    expect(wantedDirectorSysctls(c)[0]?.why).toMatch(/web-nat/);
  });

  it('IPv6 NAT services add IPv6 forwarding; DR-only configs need nothing', () => {
    const v6 = config(`${vrrp}virtual_servers:${service('nat', '[2001:db8::10]:80')}`);
    expect(wantedDirectorSysctls(v6).map((s) => s.key).slice(0, 2)).toEqual(['net.ipv6.conf.all.forwarding', 'net.ipv4.conf.all.send_redirects']);
    expect(wantedDirectorSysctls(config(`${vrrp}virtual_servers:${service('dr')}`))).toEqual([]);
  });
});

describe('prepareDirector', () => {
  const nat = config(`${vrrp}virtual_servers:${service('nat')}`);
  const withDevs = () => new FakeSysctls({ ...defaultSysctls(['all', 'default', 'eth0', 'eth1', 'eth1.100', 'eth2']), 'net.ipv4.conf.eth1/100.send_redirects': '1' });

  it('--dry-run reads and plans but writes nothing', async () => {
    const io = withDevs();
    const r = await prepareDirector(nat, { sysctl: io, dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.changes).toHaveLength(7);
    expect(io.writes).toEqual([]);
  });

  it('applies every change, then is idempotent', async () => {
    const io = withDevs();
    io.values.set('net.ipv4.conf.eth2.send_redirects', '0');
    const r = await prepareDirector(nat, { sysctl: io });
    expect(r.changes.map((c) => `${c.key} ${c.from}->${c.to}`)).toContain('net.ipv4.ip_forward 0->1');
    expect(r.unchanged.map((u) => u.key)).toEqual(['net.ipv4.conf.eth2.send_redirects']);
    expect(io.writes).toHaveLength(6);
    const again = await prepareDirector(nat, { sysctl: io });
    expect(again.changes).toEqual([]);
    expect(io.writes).toHaveLength(6);
  });

  it('an interface missing on this host fails before any write, naming it', async () => {
    const io = withDevs();
    io.values.delete('net.ipv4.conf.eth2.send_redirects');
    const err = (await prepareDirector(nat, { sysctl: io }).catch((e: unknown) => e)) as PrepareError;
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toMatch(/net.ipv4.conf.eth2.send_redirects/);
    expect(err.applied).toEqual([]);
    expect(io.writes).toEqual([]);
  });

  it('a write failing part-way names the key and lists what was applied before', async () => {
    const io = withDevs();
    io.failWriteOnly.set('net.ipv4.conf.default.send_redirects', 'EIO');
    const err = (await prepareDirector(nat, { sysctl: io }).catch((e: unknown) => e)) as PrepareError;
    expect(err.message).toMatch(/net.ipv4.conf.default.send_redirects failed: EIO/);
    expect(err.applied.map((c) => c.key)).toEqual(['net.ipv4.ip_forward', 'net.ipv4.conf.all.send_redirects']);
  });
});
