import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../../src/config/load.js';
import { nativePreflight } from '../../../src/cli/native-preflight.js';
import { nativeNeeds } from '../../../src/vrrp/native-needs.js';
import { load, parse } from '../config/helpers.js';

const yaml = `vrrp:
  instances:
    - name: raw4
      interface: eth0
      virtual_router_id: 1
      virtual_ips: [203.0.113.100]
    - name: udp4
      interface: eth0
      virtual_router_id: 2
      transport: udp
      unicast_peers: [203.0.113.2]
      virtual_ips: [203.0.113.101]
    - name: udp6
      interface: eth0
      virtual_router_id: 3
      transport: udp
      unicast_peers: ['2001:db8::2']
      virtual_ips: ['2001:db8::100']
    - name: quiet
      interface: eth0
      virtual_router_id: 4
      transport: udp
      unicast_peers: [203.0.113.2]
      virtual_ips: [203.0.113.102]
      garp: { repeat: 0 }
`;

describe('nativeNeeds', () => {
  it('raw transport is an error; announcements are warnings; no announcements, no need', () => {
    const needs = nativeNeeds(load(yaml).vrrp, 'WHY');
    expect(needs.map((n) => [n.severity, n.path.join('.')])).toEqual([
      ['error', 'vrrp.instances.0.transport'],
      ['warning', 'vrrp.instances.1.garp'],
      ['warning', 'vrrp.instances.2.garp'],
    ]);
    expect(needs[0]?.message).toBe('instance "raw4" uses transport vrrp (IP protocol 112), which needs the lvskeep native addon: WHY');
    expect(needs[1]?.message).toContain('arping -U');
    expect(needs[2]?.message).toContain('unsolicited neighbour advertisements for its IPv6 VIPs need the native addon');
  });
});

describe('nativePreflight', () => {
  const r = parse(yaml);
  if (!r.ok) throw new Error('fixture must load');

  it('says nothing, and does not load the addon, when it loads or nothing needs it', () => {
    expect(nativePreflight(r.config.vrrp, r.place, () => undefined)).toEqual({ errors: [], warnings: [] });
    let asked = false;
    const none = nativePreflight({ instances: [] }, r.place, () => {
      asked = true;
      return 'x';
    });
    expect(none).toEqual({ errors: [], warnings: [] });
    expect(asked).toBe(false);
  });

  it('places each problem in the file with the fix', () => {
    const p = nativePreflight(r.config.vrrp, r.place, () => 'cannot load /x.node: gone');
    expect(p.errors.map(formatIssue)).toEqual([
      't.yaml:3:7: vrrp.instances[0].transport: instance "raw4" uses transport vrrp (IP protocol 112), which needs the lvskeep native addon: cannot load /x.node: gone; build it with `npm run build:native` (needs the Debian packages python3, make and g++)',
    ]);
    expect(p.warnings.map((w) => `${w.line}:${w.col} ${w.path}`)).toEqual(['7:7 vrrp.instances[1].garp', '13:7 vrrp.instances[2].garp']);
  });
});
