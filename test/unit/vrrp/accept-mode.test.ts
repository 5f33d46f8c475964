import { describe, expect, it } from 'vitest';
import { droppedVips, enforcesAcceptMode, nftScript } from '../../../src/vrrp/accept-mode.js';
import { AcceptModeController } from '../../../src/vrrp/runtime/accept-filter.js';
import { silentLogger } from '../../../src/log/logger.js';
import { errors, load } from '../config/helpers.js';
import { FakeAcceptFilter, flush } from '../vrrp-runtime/fakes.js';

const entry = (master: boolean, vips: string[], accept = false, priority = 100) => ({ master, accept, priority, vips });

describe('accept mode, pure', () => {
  it('only a non-accepting, non-owner Master drops; owners and accepting masters never do', () => {
    expect(enforcesAcceptMode({ accept: false, priority: 254 })).toBe(true);
    expect(enforcesAcceptMode({ accept: false, priority: 255 })).toBe(false);
    expect(enforcesAcceptMode({ accept: true, priority: 100 })).toBe(false);
    const d = droppedVips([
      entry(true, ['192.0.2.60', '192.0.2.50']),
      entry(false, ['192.0.2.70']),
      entry(true, ['192.0.2.80'], true),
      entry(true, ['192.0.2.90'], false, 255),
      entry(true, ['2001:DB8::50', '192.0.2.50']),
    ]);
    expect(d).toEqual({ v4: ['192.0.2.50', '192.0.2.60'], v6: ['2001:db8::50'] });
  });

  it('the nft script replaces the table in one transaction, or only removes it', () => {
    expect(nftScript({ v4: [], v6: [] })).toBe('table inet lvskeep\ndelete table inet lvskeep\n');
    const s = nftScript({ v4: ['192.0.2.50'], v6: [] });
    expect(s.split('\n').slice(0, 5)).toEqual([
      'table inet lvskeep',
      'delete table inet lvskeep',
      'table inet lvskeep {',
      '  set vips4 { type ipv4_addr; elements = { 192.0.2.50 }; }',
      '  set vips6 { type ipv6_addr; }',
    ]);
    expect(s).toContain('ip daddr @vips4 drop');
    expect(s).toContain('ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept');
    expect(s.indexOf('iifname "lo" accept')).toBeLessThan(s.indexOf('ip daddr @vips4 drop'));
  });
});

describe('AcceptModeController', () => {
  it('applies only changes, folds changes made meanwhile into one run, and removes the table on close', async () => {
    const f = new FakeAcceptFilter();
    const c = new AcceptModeController(f, silentLogger());
    await c.reset();
    c.update('a', entry(false, ['192.0.2.50']));
    await c.idle();
    expect(f.applied).toHaveLength(1); // nothing to drop yet: same as after reset
    c.update('a', entry(true, ['192.0.2.50']));
    c.update('b', entry(true, ['192.0.2.51']));
    await c.idle();
    expect(f.applied.length).toBeLessThanOrEqual(3);
    expect(f.last()).toEqual(['192.0.2.50', '192.0.2.51']);
    c.update('a', undefined);
    await c.idle();
    expect(f.last()).toEqual(['192.0.2.51']);
    await c.close();
    expect(f.last()).toEqual([]);
  });

  it('a failed apply is retried on the next change (the VIPs keep accepting meanwhile)', async () => {
    const f = new FakeAcceptFilter();
    const c = new AcceptModeController(f, silentLogger());
    f.fail = new Error('nft not found');
    await expect(c.reset()).rejects.toThrow('nft not found');
    c.update('a', entry(true, ['192.0.2.50']));
    await flush();
    expect(f.applied).toEqual([]);
    f.fail = undefined;
    c.update('a', entry(true, ['192.0.2.50']));
    await c.idle();
    expect(f.last()).toEqual(['192.0.2.50']);
  });

  it('after removing the table failed, state changes with nothing to drop do not run nft again; one with a VIP to drop does', async () => {
    const f = new FakeAcceptFilter();
    const c = new AcceptModeController(f, silentLogger());
    f.fail = new Error('Unable to initialize Netlink socket: Protocol not supported');
    await expect(c.reset()).rejects.toThrow('Protocol not supported');
    const tries = () => f.applied.length + f.failures;
    const before = tries();
    for (const master of [true, false, true, false]) {
      c.update('a', entry(master, ['192.0.2.50'], true));
      await c.idle();
    }
    expect(tries()).toBe(before);
    c.update('a', entry(true, ['192.0.2.50']));
    await c.idle();
    expect(tries()).toBe(before + 1);
    // Once nft works again, the drop is applied, and removing it later runs nft as usual.
    f.fail = undefined;
    c.update('a', entry(true, ['192.0.2.51']));
    await c.idle();
    expect(f.last()).toEqual(['192.0.2.51']);
    c.update('a', entry(false, ['192.0.2.51']));
    await c.idle();
    expect(f.applied.map((d) => [...d.v4, ...d.v6])).toEqual([['192.0.2.51'], []]);
  });
});

describe('lvskeep check: accept false on a virtual server address', () => {
  const config = (accept: string, priority = 100) => `vrrp:
  instances:
    - name: public
      interface: eth0
      virtual_router_id: 51
      priority: ${priority}
${accept}      virtual_ips: [203.0.113.10/24, 203.0.113.11/24]
virtual_servers:
  - address: 203.0.113.10:80
    real_servers: [{ address: 198.51.100.11 }]
`;

  it('is an error at the accept key', () => {
    expect(errors(config('      accept: false\n'))).toEqual([
      't.yaml:7:15: vrrp.instances[0].accept: accept: false would make the Master drop traffic to 203.0.113.10 (virtual server "203.0.113.10:80") before IPVS sees it; remove it (accept: true is the default) or use a VIP no virtual server listens on',
    ]);
  });

  it('is fine by default, for the address owner, and for VIPs no virtual server uses', () => {
    expect(load(config('')).vrrp.instances[0]?.accept).toBe(true);
    expect(load(config('      accept: false\n', 255)).vrrp.instances[0]?.accept).toBe(false);
    expect(load(config('      accept: false\n').replace('203.0.113.10:80', '203.0.113.12:80')).vrrp.instances[0]?.accept).toBe(false);
  });
});
