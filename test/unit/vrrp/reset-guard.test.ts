// The reset guard's pure part: tc batch lines from what is installed to what is wanted, handles and cleanup.
import { describe, expect, it } from 'vitest';
import { GUARD_PREF, guardHandle, guardedUnion, tcGuardBatches, tcGuardCleanup, type GuardedVip } from '../../../src/vrrp/reset-guard.js';

const v4: GuardedVip = { address: '203.0.113.10', dev: 'eth0' };
const gw: GuardedVip = { address: '198.51.100.1', dev: 'eth1' };
const v6: GuardedVip = { address: '2001:db8::10', dev: 'eth0' };

describe('reset guard tc lines', () => {
  it('adds a clsact qdisc per interface and one flower filter per VIP that drops TCP resets from it', () => {
    expect(tcGuardBatches([], [v4, gw, v6])).toEqual({
      remove: [],
      add: [
        'qdisc replace dev eth0 clsact',
        'qdisc replace dev eth1 clsact',
        'filter replace dev eth0 egress pref 4646 handle 0xcb00710a protocol ip flower ip_proto tcp src_ip 203.0.113.10 tcp_flags 0x4/0x4 action drop',
        'filter replace dev eth1 egress pref 4646 handle 0xc6336401 protocol ip flower ip_proto tcp src_ip 198.51.100.1 tcp_flags 0x4/0x4 action drop',
        `filter replace dev eth0 egress pref 4647 handle 0x${guardHandle(v6).toString(16)} protocol ipv6 flower ip_proto tcp src_ip 2001:db8::10 tcp_flags 0x4/0x4 action drop`,
      ],
    });
  });
  it('removes exactly the filters no longer wanted and adds only the new ones', () => {
    expect(tcGuardBatches([v4, gw], [gw, v6])).toEqual({
      remove: ['filter del dev eth0 egress pref 4646 handle 0xcb00710a protocol ip flower'],
      add: ['qdisc replace dev eth0 clsact', `filter replace dev eth0 egress pref 4647 handle 0x${guardHandle(v6).toString(16)} protocol ipv6 flower ip_proto tcp src_ip 2001:db8::10 tcp_flags 0x4/0x4 action drop`],
    });
    expect(tcGuardBatches([v4], [v4])).toEqual({ remove: [], add: [] });
    expect(tcGuardBatches([v4, v6], [])).toEqual({
      remove: ['filter del dev eth0 egress pref 4646 handle 0xcb00710a protocol ip flower', `filter del dev eth0 egress pref 4647 handle 0x${guardHandle(v6).toString(16)} protocol ipv6 flower`],
      add: [],
    });
  });
  it('handles are stable and non-zero; distinct addresses get distinct handles', () => {
    expect(guardHandle(v4)).toBe(0xcb00710a);
    expect(guardHandle({ ...v4, address: '0.0.0.0' })).toBe(1);
    expect(guardHandle(v6)).toBe(guardHandle({ ...v6 }));
    expect(guardHandle(v6)).not.toBe(guardHandle({ ...v6, address: '2001:db8::11' }));
    expect(() => guardHandle({ ...v4, address: 'nope' })).toThrow(/not an IP address/);
  });
  it('the union of the instances is deduplicated and ordered', () => {
    expect(guardedUnion([[gw, v4], [v4], []])).toEqual([v4, gw]);
  });
  it('cleanup removes both priorities on each interface once', () => {
    expect(tcGuardCleanup(['eth0', 'eth0', 'eth1'])).toEqual([
      `filter del dev eth0 egress pref ${GUARD_PREF[4]}`,
      `filter del dev eth0 egress pref ${GUARD_PREF[6]}`,
      `filter del dev eth1 egress pref ${GUARD_PREF[4]}`,
      `filter del dev eth1 egress pref ${GUARD_PREF[6]}`,
    ]);
  });
});
