/** Refusing `user` keys the daemon cannot honour (no CAP_SETUID/CAP_SETGID/CAP_KILL, e.g. under the shipped unit). */
import { describe, expect, it } from 'vitest';
import { readEffectiveCaps, scriptUserProblem, scriptUsers } from '../../../src/daemon/script-users.js';
import { load } from '../config/helpers.js';

const ROOT = { uid: 0, gid: 0 };
const ALL = (1n << 41n) - 1n;
/** CAP_NET_ADMIN (12) and CAP_NET_RAW (13): what the shipped lvskeep.service leaves. */
const UNIT = (1n << 12n) | (1n << 13n);

const withUsers = load(`vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      notify: [/usr/local/bin/n]
      notify_user: nobody
virtual_servers:
  - name: web
    address: 203.0.113.10:80
    check: { type: script, command: [/usr/local/bin/c], user: nobody }
    real_servers:
      - address: 198.51.100.11:80
alerts:
  sinks:
    - { name: s, type: script, command: [/usr/local/bin/a], user: "nobody:nogroup" }
`);

describe('scripts with a user and the capabilities to honour it', () => {
  it('lists every user key once (real servers sharing the service check are not repeated)', () => {
    expect(scriptUsers(withUsers).map((u) => u.where)).toEqual(['vrrp.instances[0].notify_user', 'virtual_servers[0].check.user', 'alerts.sinks[0].user']);
  });

  it('with every capability (root in a shell) there is no problem', () => {
    expect(scriptUserProblem(withUsers, ROOT, ALL)).toBeUndefined();
  });

  it('under the shipped unit\'s bounding set it names the key, the missing capabilities and the drop-in', () => {
    expect(scriptUserProblem(withUsers, ROOT, UNIT)).toBe(
      'vrrp.instances[0].notify_user (nobody) and 2 more: running scripts as another user needs CAP_SETUID, CAP_SETGID, CAP_KILL, which this process does not have; under systemd add them with a drop-in (systemctl edit lvskeep: [Service] CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL), or remove the user keys',
    );
    expect(scriptUserProblem(withUsers, ROOT, UNIT | (1n << 6n) | (1n << 7n))).toContain('needs CAP_KILL,');
  });

  it('no user keys, or users equal to the daemon\'s own ids, need nothing', () => {
    expect(scriptUserProblem(load('log: { level: info }\n'), ROOT, UNIT)).toBeUndefined();
    expect(scriptUserProblem(withUsers, { uid: 65534, gid: 65534 }, 0n)).toBeUndefined();
  });

  it('reads CapEff from /proc/self/status text', () => {
    expect(readEffectiveCaps(() => 'Name:\tnode\nCapPrm:\t0000000000003000\nCapEff:\t0000000000003000\n')).toBe(UNIT);
    expect(readEffectiveCaps(() => 'Name:\tnode\n')).toBeUndefined();
    expect(readEffectiveCaps(() => { throw new Error('ENOENT'); })).toBeUndefined();
    expect(readEffectiveCaps()).toBeTypeOf('bigint'); // this Linux process has one
  });
});
