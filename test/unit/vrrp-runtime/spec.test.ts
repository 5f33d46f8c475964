import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { buildInstanceSpec, choosePrimaryAddress, garpTiming } from '../../../src/vrrp/runtime/spec.js';

function cfg(lines: string[]): Parameters<typeof buildInstanceSpec>[0] {
  const r = parseConfigText(['vrrp:', '  instances:', '    - name: vi', '      interface: eth0', '      virtual_router_id: 9', ...lines.map((l) => `      ${l}`)].join('\n'), 't.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const c = r.config.vrrp.instances[0];
  if (!c) throw new Error('no instance');
  return c;
}

describe('instance spec', () => {
  it('maps the config onto the state machine, receive settings, VIPs, GARP timing and transport', () => {
    const c = cfg(['priority: 120', 'advert_interval: 100ms', 'preempt: false', 'virtual_ips: [192.0.2.50/24, { address: 192.0.2.51/32, dev: eth1, label: "eth1:v" }]']);
    const s = buildInstanceSpec(c, '192.0.2.1');
    expect(s.machine).toMatchObject({ name: 'vi', version: 3, family: 4, vrid: 9, priority: 120, intervalCs: 10, preempt: false, primaryAddress: '192.0.2.1', vips: ['192.0.2.50', '192.0.2.51'] });
    expect(s.vips).toEqual([
      { address: '192.0.2.50', prefix: 24, dev: 'eth0' },
      { address: '192.0.2.51', prefix: 32, dev: 'eth1', label: 'eth1:v' },
    ]);
    expect(s.destinations).toEqual(['224.0.0.18']);
    expect(s.transportKind).toBe('raw');
    expect(s.receive.unicastPeers).toBeUndefined();
  });

  it('unicast over udp: peers are the destinations and the expected sources', () => {
    const s = buildInstanceSpec(cfg(['virtual_ips: [192.0.2.50/24]', 'transport: udp', 'unicast_peers: [192.0.2.2]', 'udp_port: 2000']), '192.0.2.1');
    expect(s.destinations).toEqual(['192.0.2.2']);
    expect(s.receive.unicastPeers).toEqual(['192.0.2.2']);
    expect(s.transport).toEqual({ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.2'], udpPort: 2000 });
    expect(s.transportKind).toBe('udp');
  });

  it('picks the advert source: unicast_source, else a non-VIP address of the family; IPv6 multicast needs link-local', () => {
    const v4 = cfg(['virtual_ips: [192.0.2.50/24]']);
    expect(choosePrimaryAddress(v4, [{ address: '192.0.2.50' }, { address: 'fe80::1' }, { address: '192.0.2.1' }])).toBe('192.0.2.1');
    expect(choosePrimaryAddress(v4, [{ address: '192.0.2.50' }])).toBeUndefined();
    const v6 = cfg(['virtual_ips: ["2001:db8::50/64"]']);
    expect(choosePrimaryAddress(v6, [{ address: '2001:db8::1' }, { address: 'fe80::2' }])).toBe('fe80::2');
    const uni = cfg(['virtual_ips: [192.0.2.50/24]', 'unicast_source: 192.0.2.9', 'unicast_peers: [192.0.2.2]']);
    expect(choosePrimaryAddress(uni, [{ address: '192.0.2.1' }])).toBe('192.0.2.9');
  });

  it('garp repeat 0 still announces once; refresh has a floor', () => {
    expect(garpTiming({ delay: 0, repeat: 0, interval: 10, refresh: 0 })).toEqual({ delayMs: 0, repeat: 1, intervalMs: 10, refreshMs: 0 });
    expect(garpTiming({ delay: 5, repeat: 3, interval: 10, refresh: 20 }).refreshMs).toBe(100);
  });

  it('hmac auth derives a 32-byte key and signs with key id 0', () => {
    const s = buildInstanceSpec(cfg(['virtual_ips: [192.0.2.50/24]', 'auth: { type: hmac, secret: abc }']), '192.0.2.1');
    expect(s.hmacKey?.keyId).toBe(0);
    expect(s.hmacKey?.key.length).toBe(32);
    expect(s.receive.auth.type).toBe('hmac');
  });
});
