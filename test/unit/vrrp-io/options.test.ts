import { describe, expect, it } from 'vitest';
import { isLinkLocalV6, isMulticast, resolveTransportOptions, stripScope } from '../../../src/vrrp/transport/options.js';

describe('resolveTransportOptions', () => {
  it('defaults to multicast to the VRRP group on port 1112', () => {
    expect(resolveTransportOptions({ family: 4, interface: 'eth0', source: '192.0.2.1' })).toEqual({
      family: 4,
      interface: 'eth0',
      source: '192.0.2.1',
      mode: 'multicast',
      group: '224.0.0.18',
      destinations: ['224.0.0.18'],
      udpPort: 1112,
    });
    expect(resolveTransportOptions({ family: 6, interface: 'eth0', source: 'fe80::1' })).toMatchObject({ mode: 'multicast', group: 'ff02::12', destinations: ['ff02::12'] });
  });

  it('switches to unicast when peers are given', () => {
    const r = resolveTransportOptions({ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.2', '192.0.2.3'], udpPort: 9999 });
    expect(r).toMatchObject({ mode: 'unicast', destinations: ['192.0.2.2', '192.0.2.3'], udpPort: 9999 });
    // IPv6 unicast may use a global source (RFC 5798 only mandates link-local for the multicast case).
    expect(resolveTransportOptions({ family: 6, interface: 'eth0', source: '2001:db8::1', peers: ['2001:db8::2'] }).mode).toBe('unicast');
  });

  it.each([
    [{ family: 5, interface: 'eth0', source: '192.0.2.1' }, /family must be 4 or 6/],
    [{ family: 4, interface: 'eth0:0', source: '192.0.2.1' }, /not a valid interface name/],
    [{ family: 4, interface: 'waytoolonginterface', source: '192.0.2.1' }, /not a valid interface name/],
    [{ family: 4, interface: 'eth0', source: '2001:db8::1' }, /source "2001:db8::1" is not an IPv4 address/],
    [{ family: 4, interface: 'eth0', source: '224.0.0.18' }, /multicast address/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.2', 'x'] }, /peers\[1\] "x"/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['224.0.0.18'] }, /peers\[0\] 224\.0\.0\.18 is a multicast/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.1'] }, /our own source/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', multicastGroup: '192.0.2.9' }, /multicastGroup/],
    [{ family: 6, interface: 'eth0', source: '2001:db8::1' }, /link-local source/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', udpPort: 0 }, /udpPort/],
    [{ family: 4, interface: 'eth0', source: '192.0.2.1', udpPort: 65536 }, /udpPort/],
  ])('rejects %j', (opts, pattern) => {
    expect(() => resolveTransportOptions(opts as Parameters<typeof resolveTransportOptions>[0])).toThrow(pattern);
  });
});

describe('address helpers', () => {
  it('classifies link-local and multicast addresses', () => {
    expect(isLinkLocalV6('fe80::1')).toBe(true);
    expect(isLinkLocalV6('febf::1')).toBe(true);
    expect(isLinkLocalV6('fec0::1')).toBe(false);
    expect(isLinkLocalV6('2001:db8::1')).toBe(false);
    expect(isMulticast('224.0.0.18')).toBe(true);
    expect(isMulticast('239.255.255.255')).toBe(true);
    expect(isMulticast('240.0.0.1')).toBe(false);
    expect(isMulticast('ff02::12')).toBe(true);
    expect(isMulticast('fe80::1')).toBe(false);
  });

  it('strips a %scope suffix', () => {
    expect(stripScope('fe80::1%eth0')).toBe('fe80::1');
    expect(stripScope('192.0.2.1')).toBe('192.0.2.1');
  });
});
