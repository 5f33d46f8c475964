import { describe, expect, it } from 'vitest';

import { allocateLabel, resolveRequest, wantedSysctls } from '../../../src/realserver/spec.js';

describe('resolveRequest', () => {
  it('defaults the device per mode and makes every VIP a host address', () => {
    expect(resolveRequest({ vips: ['192.0.2.10', '2001:DB8::10/128'], mode: 'dr' })).toEqual({
      mode: 'dr',
      dev: 'lo',
      vips: [
        { address: '192.0.2.10', prefix: 32, family: 4 },
        { address: '2001:db8::10', prefix: 128, family: 6 },
      ],
    });
    expect(resolveRequest({ vips: ['192.0.2.10/32'], mode: 'tun' }).dev).toBe('tunl0');
    expect(resolveRequest({ vips: ['192.0.2.10'], mode: 'dr', dev: 'dummy0' }).dev).toBe('dummy0');
  });

  it('names the bad flag in every refusal', () => {
    expect(() => resolveRequest({ vips: ['192.0.2.10/24'], mode: 'dr' })).toThrow(/--vip 192.0.2.10\/24: .*host address \(\/32\)/);
    expect(() => resolveRequest({ vips: ['vip.example'], mode: 'dr' })).toThrow(/--vip "vip.example": not an IPv4 or IPv6 address/);
    expect(() => resolveRequest({ vips: [], mode: 'dr' })).toThrow(/--vip: give at least one/);
    expect(() => resolveRequest({ vips: ['192.0.2.10', '192.0.2.10'], mode: 'dr' })).toThrow(/given twice/);
    expect(() => resolveRequest({ vips: ['2001:db8::1'], mode: 'tun' })).toThrow(/TUN mode handles IPv4/);
    expect(() => resolveRequest({ vips: ['192.0.2.10'], mode: 'dr', dev: 'a/b' })).toThrow(/--dev "a\/b"/);
    expect(() => resolveRequest({ vips: ['192.0.2.10'], mode: 'nat' as 'dr' })).toThrow(/--mode "nat"/);
  });
});

describe('wantedSysctls', () => {
  const asText = (s: { key: string; value: string }[]) => s.map((x) => `${x.key}=${x.value}`);

  it('DR: arp_ignore=1 and arp_announce=2 on all and on the VIP device', () => {
    expect(asText(wantedSysctls({ mode: 'dr', dev: 'lo', hasIpv4: true }))).toEqual([
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'net.ipv4.conf.lo.arp_ignore=1',
      'net.ipv4.conf.lo.arp_announce=2',
    ]);
  });

  it('TUN: the ARP pair plus rp_filter=0 on all and tunl0', () => {
    expect(asText(wantedSysctls({ mode: 'tun', dev: 'tunl0', hasIpv4: true }))).toEqual([
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'net.ipv4.conf.tunl0.arp_ignore=1',
      'net.ipv4.conf.tunl0.arp_announce=2',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.tunl0.rp_filter=0',
    ]);
  });

  it('IPv6-only VIPs need no ARP sysctls', () => {
    expect(wantedSysctls({ mode: 'dr', dev: 'lo', hasIpv4: false })).toEqual([]);
  });
});

describe('allocateLabel', () => {
  it('takes the first free dev:N', () => {
    expect(allocateLabel('lo', new Set())).toBe('lo:0');
    expect(allocateLabel('lo', new Set(['lo:0', 'lo:2']))).toBe('lo:1');
    expect(allocateLabel('lo', new Set(['lo:0', 'lo:1', 'lo:2']))).toBe('lo:3');
  });

  it('gives up when the label would exceed 15 bytes', () => {
    const dev = 'averylongname'; // 13 bytes: dev:0..dev:9 fit, dev:10 does not
    expect(allocateLabel(dev, new Set())).toBe('averylongname:0');
    const taken = new Set(Array.from({ length: 10 }, (_, n) => `${dev}:${n}`));
    expect(allocateLabel(dev, taken)).toBeUndefined();
    expect(allocateLabel('averylongname0', new Set())).toBeUndefined();
  });
});
