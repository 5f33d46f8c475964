/** Every cross-field rule, each with the exact path it reports and a passing counterpart. */
import { describe, expect, it } from 'vitest';
import { load, messagesAt, warnings } from './helpers.js';

const vrrp = (inst: string, extra = ''): string => `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
${inst}${extra}`;
const vs = (body: string, rest = ''): string => `virtual_servers:
  - name: web
${body}${rest}`;

describe('VRRP instance rules', () => {
  it('duplicate VRID on the same interface and family is an error; other interface or family is fine', () => {
    const two = (iface: string, vip: string): string => `vrrp:
  instances:
    - { name: a, interface: eth0, virtual_router_id: 9, virtual_ips: [203.0.113.1/24] }
    - { name: b, interface: ${iface}, virtual_router_id: 9, virtual_ips: ["${vip}"] }
`;
    expect(messagesAt(two('eth0', '203.0.113.2/24'), 'vrrp.instances[1].virtual_router_id')).toEqual([
      'virtual_router_id 9 is already used on eth0 by vrrp.instances[0]',
    ]);
    expect(load(two('eth1', '203.0.113.2/24')).vrrp.instances).toHaveLength(2);
    expect(load(two('eth0', '2001:db8::2/64')).vrrp.instances).toHaveLength(2);
  });

  it('duplicate instance names and shared virtual IPs are errors', () => {
    const yaml = `vrrp:
  instances:
    - { name: a, interface: eth0, virtual_router_id: 1, virtual_ips: [203.0.113.1/24] }
    - { name: a, interface: eth0, virtual_router_id: 2, virtual_ips: [203.0.113.1/32] }
`;
    expect(messagesAt(yaml, 'vrrp.instances[1].name')).toEqual(['duplicate instance name "a" (also vrrp.instances[0])']);
    expect(messagesAt(yaml, 'vrrp.instances[1].virtual_ips[0]')).toEqual(['203.0.113.1 is also a virtual IP of vrrp.instances[0]']);
  });

  it('priority is 1..255 and defaults to 100', () => {
    expect(messagesAt(vrrp('      priority: 0\n      virtual_ips: [203.0.113.1/24]\n'), 'vrrp.instances[0].priority')).toEqual(['must be 1..255']);
    expect(messagesAt(vrrp('      priority: 256\n      virtual_ips: [203.0.113.1/24]\n'), 'vrrp.instances[0].priority')).toEqual(['must be 1..255']);
    expect(load(vrrp('      virtual_ips: [203.0.113.1/24]\n')).vrrp.instances[0]?.priority).toBe(100);
  });

  it('advert_interval: v3 centiseconds 10ms..40.95s, v2 whole seconds 1..255', () => {
    const at = 'vrrp.instances[0].advert_interval';
    const v = (ai: string, version = 3): string => vrrp(`      version: ${version}\n      advert_interval: ${ai}\n      virtual_ips: [203.0.113.1/24]\n`);
    for (const ok of ['10ms', '100ms', '1s', '40950ms']) expect(load(v(ok)).vrrp.instances[0]?.advert_interval).toBeGreaterThan(0);
    for (const bad of ['5ms', '15ms', '41s']) expect(messagesAt(v(bad), at)).toEqual(['VRRPv3 advert_interval must be 10ms..40.95s in steps of 10ms (centiseconds)']);
    for (const ok of ['1s', '255s']) expect(load(v(ok, 2)).vrrp.instances[0]?.version).toBe(2);
    for (const bad of ['500ms', '1500ms', '256s']) expect(messagesAt(v(bad, 2), at)).toEqual(['VRRPv2 advert_interval must be whole seconds, 1s..255s']);
  });

  it('virtual IPs of one instance share a family; version 2 is IPv4 only', () => {
    expect(messagesAt(vrrp('      virtual_ips: [203.0.113.1/24, "2001:db8::1/64"]\n'), 'vrrp.instances[0].virtual_ips[1]')).toEqual([
      'all virtual IPs of one instance must be the same family (virtual_ips[0] is IPv4)',
    ]);
    expect(messagesAt(vrrp('      version: 2\n      virtual_ips: ["2001:db8::1/64"]\n'), 'vrrp.instances[0].version')).toEqual([
      'VRRP version 2 is IPv4 only; use version 3 for IPv6',
    ]);
  });

  it('accepts virtual IPs as strings or mappings', () => {
    const c = load(vrrp('      virtual_ips:\n        - 203.0.113.1/24\n        - { address: 203.0.113.2, dev: eth1, label: "eth1:x" }\n'));
    expect(c.vrrp.instances[0]?.virtual_ips).toEqual([
      { address: { address: '203.0.113.1', prefix: 24, family: 4 } },
      { address: { address: '203.0.113.2', prefix: 32, family: 4 }, dev: 'eth1', label: 'eth1:x' },
    ]);
  });

  it('auth pass only with version 2, needs a secret of at most 8 bytes', () => {
    const a = (auth: string, version = 2): string => vrrp(`      version: ${version}\n      virtual_ips: [203.0.113.1/24]\n      auth: ${auth}\n`);
    expect(load(a('{ type: pass, secret: abcd1234 }')).vrrp.instances[0]?.auth).toEqual({ type: 'pass', secret: 'abcd1234' });
    expect(messagesAt(a('{ type: pass, secret: abc }', 3), 'vrrp.instances[0].auth.type')).toEqual([
      'auth type pass exists only in VRRP version 2 (RFC 3768); version 3 has no authentication',
    ]);
    expect(messagesAt(a('{ type: pass, secret: abcdefghi }'), 'vrrp.instances[0].auth.secret')).toEqual(['a VRRPv2 password is at most 8 bytes']);
    expect(messagesAt(a('{ type: hmac }'), 'vrrp.instances[0].auth')).toEqual(['auth type hmac needs a secret']);
    expect(messagesAt(a('{ secret: abc }'), 'vrrp.instances[0].auth.secret')).toEqual(['secret is only used with auth type pass or hmac']);
  });

  it('warns (does not fail) about short hmac secrets and clear-text passwords', () => {
    const w = warnings(vrrp('      virtual_ips: [203.0.113.1/24]\n      auth: { type: hmac, secret: short }\n'));
    expect(w).toEqual(['t.yaml:7:35: vrrp.instances[0].auth.secret: hmac secret is shorter than 16 bytes; use a longer random secret']);
    expect(warnings(vrrp('      virtual_ips: [203.0.113.1/24]\n      auth: { type: hmac, secret: 0123456789abcdef }\n'))).toEqual([]);
    expect(warnings(vrrp('      version: 2\n      virtual_ips: [203.0.113.1/24]\n      auth: { type: pass, secret: pw }\n'))[0]).toContain('clear text');
  });

  it('unicast peers and source must match the virtual IP family', () => {
    const u = (extra: string): string => vrrp(`      virtual_ips: [203.0.113.1/24]\n${extra}`);
    expect(messagesAt(u('      unicast_peers: ["2001:db8::2"]\n'), 'vrrp.instances[0].unicast_peers[0]')).toEqual(['unicast peer must be IPv4 like the virtual IPs']);
    expect(messagesAt(u('      unicast_source: "2001:db8::1"\n      unicast_peers: [203.0.113.3]\n'), 'vrrp.instances[0].unicast_source')).toEqual([
      'unicast_source must be IPv4 like the virtual IPs',
    ]);
    expect(messagesAt(u('      unicast_source: 203.0.113.2\n'), 'vrrp.instances[0].unicast_source')).toEqual(['unicast_source needs unicast_peers']);
    expect(load(u('      unicast_source: 203.0.113.2\n      unicast_peers: [203.0.113.3]\n')).vrrp.instances[0]?.unicast_peers).toEqual([
      { address: '203.0.113.3', family: 4 },
    ]);
  });

  it('udp transport needs peers; udp_port defaults to 1112 and is refused with vrrp transport', () => {
    const u = (extra: string): string => vrrp(`      virtual_ips: [203.0.113.1/24]\n${extra}`);
    expect(messagesAt(u('      transport: udp\n'), 'vrrp.instances[0].transport')).toEqual(['transport udp needs unicast_peers']);
    expect(load(u('      transport: udp\n      unicast_peers: [203.0.113.3]\n')).vrrp.instances[0]?.udp_port).toBe(1112);
    expect(messagesAt(u('      udp_port: 2000\n'), 'vrrp.instances[0].udp_port')).toEqual(['udp_port is only used with transport udp']);
  });

  it('track scripts: timeout below interval, rise/fall >= 1, unique names, argv commands', () => {
    const t = (scripts: string): string => vrrp(`      virtual_ips: [203.0.113.1/24]\n      track:\n        scripts:\n${scripts}`);
    expect(messagesAt(t('          - { name: s, command: [/bin/true], interval: 1s, timeout: 1s }\n'), 'vrrp.instances[0].track.scripts[0].timeout')).toEqual([
      'timeout (1000ms) must be shorter than interval (1000ms)',
    ]);
    expect(messagesAt(t('          - { name: s, command: [/bin/true], rise: 0 }\n'), 'vrrp.instances[0].track.scripts[0].rise')).toEqual(['must be 1..1000']);
    expect(messagesAt(t('          - { name: s, command: [/bin/true], fall: 0 }\n'), 'vrrp.instances[0].track.scripts[0].fall')).toEqual(['must be 1..1000']);
    expect(messagesAt(t('          - { name: s, command: [/bin/true] }\n          - { name: s, command: [/bin/false] }\n'), 'vrrp.instances[0].track.scripts[1].name')).toEqual([
      'duplicate track script name "s" (also track.scripts[0])',
    ]);
    expect(messagesAt(t('          - { name: s, command: "/bin/check --port 80" }\n'), 'vrrp.instances[0].track.scripts[0].command')[0]).toContain('list of arguments');
    expect(messagesAt(t('          - { name: s, command: [check] }\n'), 'vrrp.instances[0].track.scripts[0].command[0]')).toEqual([
      'the program (first argument) must be an absolute path',
    ]);
  });

  it('track checks must name a known virtual server and one of its real servers', () => {
    const yaml = (ref: string): string => `${vs('    address: 203.0.113.10:80\n    real_servers:\n      - address: 198.51.100.11\n')}vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      track:
        checks:
          - ${ref}
`;
    expect(load(yaml('{ virtual_server: web }')).vrrp.instances[0]?.track.checks).toEqual([{ virtual_server: 'web', weight: 0, reverse: false }]);
    expect(messagesAt(yaml('{ virtual_server: web, weight: 254 }'), 'vrrp.instances[0].track.checks[0].weight')).toEqual(['must be -253..253']);
    expect(load(yaml('{ virtual_server: "203.0.113.10:80", real_server: "198.51.100.11:80", weight: -20 }')).vrrp.instances).toHaveLength(1);
    expect(load(yaml('{ virtual_server: web, real_server: 198.51.100.11 }')).vrrp.instances).toHaveLength(1);
    expect(messagesAt(yaml('{ virtual_server: wbe }'), 'vrrp.instances[0].track.checks[0].virtual_server')).toEqual(['unknown virtual server "wbe"; did you mean "web"?']);
    expect(messagesAt(yaml('{ virtual_server: web, real_server: 198.51.100.99 }'), 'vrrp.instances[0].track.checks[0].real_server')).toEqual([
      'virtual server "web" has no real server 198.51.100.99',
    ]);
  });

  it('sync groups reference known instances, each in one group only', () => {
    const yaml = (groups: string): string => `${vrrp('      virtual_ips: [203.0.113.1/24]\n')}  sync_groups:\n${groups}`;
    expect(load(yaml('    - { name: g, instances: [v1] }\n')).vrrp.sync_groups).toEqual([{ name: 'g', instances: ['v1'] }]);
    expect(messagesAt(yaml('    - { name: g, instances: [v2] }\n'), 'vrrp.sync_groups[0].instances[0]')).toEqual(['unknown instance "v2"; did you mean "v1"?']);
    expect(messagesAt(yaml('    - { name: g, instances: [v1] }\n    - { name: h, instances: [v1] }\n'), 'vrrp.sync_groups[1].instances[0]')).toEqual([
      'instance "v1" is already in vrrp.sync_groups[0]',
    ]);
    expect(messagesAt(yaml('    - { name: g, instances: [v1] }\n    - { name: g, instances: [] }\n'), 'vrrp.sync_groups[1].name')).toEqual([
      'duplicate sync group name "g" (also vrrp.sync_groups[0])',
    ]);
  });
});

describe('virtual server rules', () => {
  it('needs exactly one of address and fwmark', () => {
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    fwmark: 7\n'), 'virtual_servers[0].fwmark')).toEqual(['use either address or fwmark, not both']);
    expect(messagesAt(vs('    scheduler: rr\n'), 'virtual_servers[0]')).toEqual(['a virtual server needs an address (e.g. 203.0.113.1:80) or a fwmark']);
    expect(messagesAt(vs('    fwmark: 7\n    protocol: udp\n'), 'virtual_servers[0].protocol')[0]).toContain('only for address-based');
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    family: inet6\n'), 'virtual_servers[0].family')[0]).toContain('comes from the address');
    const fw = load(vs('    fwmark: 7\n    family: inet6\n    real_servers:\n      - address: "2001:db8::5"\n        forwarding: dr\n'));
    expect(fw.virtual_servers[0]).toMatchObject({ fwmark: 7, family: 'inet6' });
    expect(fw.virtual_servers[0]?.real_servers[0]?.address).toEqual({ address: '2001:db8::5', port: 0, family: 6 });
  });

  it('fwmark is 1..2^32-1', () => {
    expect(messagesAt(vs('    fwmark: 0\n'), 'virtual_servers[0].fwmark')).toEqual(['must be 1..4294967295']);
    expect(load(vs('    fwmark: 4294967295\n')).virtual_servers[0]?.fwmark).toBe(4294967295);
  });

  it('duplicate virtual servers (same protocol and endpoint, or same fwmark and family) and names', () => {
    const yaml = `virtual_servers:
  - { address: "203.0.113.10:80" }
  - { address: "203.0.113.10:80", protocol: udp }
  - { address: "203.0.113.10:80" }
  - { fwmark: 3 }
  - { fwmark: 3, family: inet6 }
  - { fwmark: 3 }
  - { name: x, address: "203.0.113.11:80" }
  - { name: x, address: "203.0.113.12:80" }
`;
    expect(messagesAt(yaml, 'virtual_servers[2].address')).toEqual(['duplicate virtual server tcp 203.0.113.10:80 (also virtual_servers[0])']);
    expect(messagesAt(yaml, 'virtual_servers[5].fwmark')).toEqual(['duplicate virtual server fwmark 3 inet (also virtual_servers[3])']);
    expect(messagesAt(yaml, 'virtual_servers[7].name')).toEqual(['duplicate virtual server name "x" (also virtual_servers[6])']);
    expect(messagesAt(yaml, 'virtual_servers[1].address')).toEqual([]);
    expect(messagesAt(yaml, 'virtual_servers[4].fwmark')).toEqual([]);
  });

  it('real servers: unique within a service, weight 0..65535, port defaults to the service port', () => {
    const base = '    address: 203.0.113.10:80\n    real_servers:\n';
    expect(messagesAt(vs(`${base}      - address: 198.51.100.11\n      - address: 198.51.100.11:80\n`), 'virtual_servers[0].real_servers[1].address')).toEqual([
      'duplicate real server 198.51.100.11:80 (also real_servers[0])',
    ]);
    expect(messagesAt(vs(`${base}      - { address: 198.51.100.11, weight: 65536 }\n`), 'virtual_servers[0].real_servers[0].weight')).toEqual(['must be 0..65535']);
    expect(messagesAt(vs(`${base}      - { address: 198.51.100.11, weight: 1.5 }\n`), 'virtual_servers[0].real_servers[0].weight')).toEqual(['must be a whole number 0..65535']);
    const c = load(vs(`${base}      - { address: 198.51.100.11, weight: 0 }\n      - { address: "198.51.100.11:8080" }\n`));
    expect(c.virtual_servers[0]?.real_servers.map((r) => [r.address.port, r.weight])).toEqual([[80, 0], [8080, 1]]);
  });

  it('real servers must match the service family; dr/tun cannot change the port', () => {
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    real_servers:\n      - address: "[2001:db8::1]:80"\n'), 'virtual_servers[0].real_servers[0].address')).toEqual([
      'real server is IPv6 but the virtual server is IPv4',
    ]);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    forwarding: dr\n    real_servers:\n      - address: 203.0.113.20:8080\n'), 'virtual_servers[0].real_servers[0].address')).toEqual([
      'dr forwarding cannot change the port: use 80 or omit it (only nat maps ports)',
    ]);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    real_servers:\n      - { address: "203.0.113.20:8080", forwarding: tun }\n'), 'virtual_servers[0].real_servers[0].address')[0]).toContain('tun forwarding cannot change the port');
  });

  it('thresholds: lower must not exceed upper', () => {
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    real_servers:\n      - { address: 198.51.100.1, upper_threshold: 10, lower_threshold: 20 }\n'), 'virtual_servers[0].real_servers[0].lower_threshold')).toEqual([
      'lower_threshold (20) must not exceed upper_threshold (10)',
    ]);
    // Measured in the UML guest: the kernel answers ERANGE for l_threshold 5 with u_threshold 0.
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    real_servers:\n      - { address: 198.51.100.1, lower_threshold: 5 }\n'), 'virtual_servers[0].real_servers[0].lower_threshold')[0]).toContain(
      'set upper_threshold too',
    );
  });

  it('sorry_server: same family, not the service itself, port defaults to the service port', () => {
    const s = (sorry: string): string => vs(`    address: 203.0.113.10:80\n    sorry_server: "${sorry}"\n`);
    expect(load(s('198.51.100.99')).virtual_servers[0]?.sorry_server).toEqual({ address: '198.51.100.99', port: 80, family: 4 });
    expect(messagesAt(s('[2001:db8::9]:80'), 'virtual_servers[0].sorry_server')).toEqual(['sorry_server is IPv6 but the virtual server is IPv4']);
    expect(messagesAt(s('203.0.113.10:80'), 'virtual_servers[0].sorry_server')).toEqual(['sorry_server must not be the virtual server itself']);
    expect(messagesAt(s('nonsense'), 'virtual_servers[0].sorry_server')[0]).toContain('not an IPv4 or IPv6 address');
  });

  it('scheduler flags only with their scheduler', () => {
    expect(load(vs('    address: 203.0.113.10:80\n    scheduler: sh\n    scheduler_flags: [sh-port]\n')).virtual_servers[0]?.scheduler_flags).toEqual(['sh-port']);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    scheduler: wlc\n    scheduler_flags: [sh-port]\n'), 'virtual_servers[0].scheduler_flags[0]')).toEqual([
      'sh-port only applies to scheduler sh (this one uses wlc)',
    ]);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    scheduler: mh\n    scheduler_flags: [mh-port, mh-port]\n'), 'virtual_servers[0].scheduler_flags[1]')).toEqual([
      'mh-port is listed twice',
    ]);
  });

  it('tunnel settings need tun forwarding; gue needs a port', () => {
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    tunnel_type: gre\n'), 'virtual_servers[0].tunnel_type')[0]).toContain('needs forwarding: tun');
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    forwarding: tun\n    tunnel_type: gue\n'), 'virtual_servers[0].tunnel_type')).toEqual(['tunnel_type gue needs tunnel_port']);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    forwarding: tun\n    tunnel_port: 6080\n'), 'virtual_servers[0].tunnel_port')).toEqual(['tunnel_port is only for tunnel_type gue']);
    expect(load(vs('    address: 203.0.113.10:80\n    forwarding: tun\n    tunnel_type: gue\n    tunnel_port: 6080\n')).virtual_servers[0]).toMatchObject({ tunnel_type: 'gue', tunnel_port: 6080 });
  });

  it('persistence: whole seconds, netmask as prefix or dotted mask', () => {
    const p = (body: string): string => vs(`    address: 203.0.113.10:80\n    persistence: ${body}\n`);
    expect(load(p('{ timeout: 5m, netmask: 255.255.255.0 }')).virtual_servers[0]?.persistence).toEqual({ timeout: 300_000, netmask: 24 });
    expect(load(p('{ timeout: 60s }')).virtual_servers[0]?.persistence).toEqual({ timeout: 60_000, netmask: 32 });
    expect(messagesAt(p('{ timeout: 1500ms }'), 'virtual_servers[0].persistence.timeout')).toEqual(['persistence timeout is kept in whole seconds by the kernel']);
    expect(messagesAt(p('{ timeout: 60s, netmask: 255.0.255.0 }'), 'virtual_servers[0].persistence.netmask')[0]).toContain('not contiguous');
    expect(messagesAt(p('{ netmask: 24 }'), 'virtual_servers[0].persistence.timeout')[0]).toContain('is required');
  });

  it('one_packet only for udp; quorum_hysteresis not above quorum; panic_threshold 0..100', () => {
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    one_packet: true\n'), 'virtual_servers[0].one_packet')[0]).toContain('only for udp');
    expect(load(vs('    address: 203.0.113.10:53\n    protocol: udp\n    one_packet: true\n')).virtual_servers[0]?.one_packet).toBe(true);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    quorum: 2\n    quorum_hysteresis: 3\n'), 'virtual_servers[0].quorum_hysteresis')).toEqual([
      'quorum_hysteresis (3) must not exceed quorum (2)',
    ]);
    expect(messagesAt(vs('    address: 203.0.113.10:80\n    panic_threshold: 101\n'), 'virtual_servers[0].panic_threshold')).toEqual(['must be 0..100']);
  });
});

describe('health check rules', () => {
  const withCheck = (check: string, rs = '      - address: 198.51.100.11\n'): string => vs(`    address: 203.0.113.10:80\n    check: ${check}\n    real_servers:\n${rs}`);

  it('timeout must be below interval; rise and fall at least 1', () => {
    expect(messagesAt(withCheck('{ type: tcp, interval: 1s, timeout: 1s }'), 'virtual_servers[0].check.timeout')).toEqual([
      'timeout (1000ms) must be shorter than interval (1000ms)',
    ]);
    expect(messagesAt(withCheck('{ type: tcp, rise: 0 }'), 'virtual_servers[0].check.rise')).toEqual(['must be 1..1000']);
    expect(messagesAt(withCheck('{ type: tcp, fall: 0 }'), 'virtual_servers[0].check.fall')).toEqual(['must be 1..1000']);
  });

  it('real server checks override the default key by key', () => {
    const c = load(withCheck('{ type: http, path: /health, interval: 5s }', '      - address: 198.51.100.11\n      - address: 198.51.100.12\n        check: { path: /other, timeout: 2s }\n'));
    const [a, b] = c.virtual_servers[0]?.real_servers ?? [];
    expect(a?.check).toMatchObject({ type: 'http', path: '/health', interval: 5000, timeout: 1000 });
    expect(b?.check).toMatchObject({ type: 'http', path: '/other', interval: 5000, timeout: 2000 });
  });

  it('reports problems in a real server override at the override, inherited ones at the real server', () => {
    const yaml = withCheck('{ type: http, path: /health, interval: 1s }', '      - address: 198.51.100.11\n        check: { type: tcp, timeout: 2s }\n');
    expect(messagesAt(yaml, 'virtual_servers[0].real_servers[0].check.timeout')).toEqual(['timeout (2000ms) must be shorter than interval (1000ms)']);
    expect(messagesAt(yaml, 'virtual_servers[0].real_servers[0].check.path')).toEqual([
      '"path" is not valid for type tcp (only for http, https); inherited from the virtual server\'s check',
    ]);
  });

  it('a real server check without a service check needs its own type', () => {
    const yaml = vs('    address: 203.0.113.10:80\n    real_servers:\n      - address: 198.51.100.11\n        check: { path: /x }\n');
    expect(messagesAt(yaml, 'virtual_servers[0].real_servers[0].check.type')).toEqual(['check needs a type: one of http, https, tcp, script, dns']);
  });

  it('a check needs a type; script commands are argv lists; dns needs a name', () => {
    expect(messagesAt(withCheck('{ interval: 1s }'), 'virtual_servers[0].check.type')).toEqual(['check needs a type: one of http, https, tcp, script, dns']);
    expect(messagesAt(withCheck('{ type: script, command: "check.sh 80" }'), 'virtual_servers[0].check.command')[0]).toContain('does not run a shell');
    expect(messagesAt(withCheck('{ type: dns }'), 'virtual_servers[0].check.name')).toEqual(['is required (a DNS name)']);
  });

  it('http expectations: status codes and ranges, regex body, digest', () => {
    const c = load(withCheck('{ type: https, expect: { status: [200, "300-302"], body: "^ok", digest: D41D8CD98F00B204E9800998ECF8427E } }'));
    const chk = c.virtual_servers[0]?.check;
    expect(chk?.type === 'https' && chk.expect).toEqual({ status: [{ from: 200, to: 200 }, { from: 300, to: 302 }], body: '^ok', digest: { algorithm: 'md5', hex: 'd41d8cd98f00b204e9800998ecf8427e' } });
    expect(chk?.type === 'https' && chk.tls).toEqual({ verify: true });
    expect(messagesAt(withCheck('{ type: http, expect: { status: ["299-200"] } }'), 'virtual_servers[0].check.expect.status[0]')[0]).toContain('range');
    expect(messagesAt(withCheck('{ type: http, expect: { body: "(" } }'), 'virtual_servers[0].check.expect.body')[0]).toContain('invalid regular expression');
    expect(messagesAt(withCheck('{ type: http, expect: { digest: abc } }'), 'virtual_servers[0].check.expect.digest')[0]).toContain('32 (md5) or 64 (sha256)');
    expect(messagesAt(withCheck('{ type: http, tls: { verify: false } }'), 'virtual_servers[0].check.tls')).toEqual(['"tls" is not valid for type http (only for https)']);
  });

  it('warns about https checks that do not verify certificates', () => {
    expect(warnings(withCheck('{ type: https, tls: { verify: false } }'))).toEqual([
      "t.yaml:4:42: virtual_servers[0].check.tls.verify: https check with tls.verify: false accepts any certificate",
    ]);
  });

  it('a fwmark real server without a port needs check.connect', () => {
    const yaml = (connect: string): string => vs(`    fwmark: 5\n    check: { type: tcp${connect} }\n    real_servers:\n      - { address: 198.51.100.11, forwarding: dr }\n`);
    expect(messagesAt(yaml(''), 'virtual_servers[0].real_servers[0].check')[0]).toContain('set check.connect');
    expect(load(yaml(', connect: "198.51.100.11:443"')).virtual_servers[0]?.real_servers[0]?.check?.connect).toEqual({ address: '198.51.100.11', port: 443, family: 4 });
  });
});

describe('alerts and schedules', () => {
  const sink = (body: string): string => `alerts:\n  sinks:\n    - name: s\n${body}`;

  it('enforces the keys each sink type needs and accepts', () => {
    expect(messagesAt(sink('      type: webhook\n'), 'alerts.sinks[0]')).toEqual(['webhook sinks need url']);
    expect(messagesAt(sink('      type: pagerduty\n'), 'alerts.sinks[0]')).toEqual(['pagerduty sinks need routing_key or routing_key_file']);
    expect(messagesAt(sink('      type: opsgenie\n'), 'alerts.sinks[0]')).toEqual(['opsgenie sinks need api_key or api_key_file']);
    expect(messagesAt(sink('      type: script\n'), 'alerts.sinks[0]')).toEqual(['script sinks need command']);
    expect(messagesAt(sink('      type: slack\n      url: https://example.com/x\n      routing_key: abc\n'), 'alerts.sinks[0].routing_key')).toEqual([
      'routing_key is not used by slack sinks (only by pagerduty)',
    ]);
    expect(messagesAt(sink('      type: webhook\n      url: https://example.com/x\n      secret: abcdefghijklmnopq\n      secret_file: /etc/x\n'), 'alerts.sinks[0].secret_file')).toEqual([
      'use either secret or secret_file, not both',
    ]);
  });

  it('fills sink defaults and the full event list', () => {
    const s = load(sink('      type: script\n      command: [/usr/local/bin/notify]\n')).alerts.sinks[0];
    expect(s).toMatchObject({ min_severity: 'info', timeout: 5000, queue_size: 1000, retries: 5, group_window: 2000, dedup_window: 300_000 });
    expect(s?.events).toEqual(['*']);
  });

  it('checks event filters against the daemon\'s event types', () => {
    const ev = (list: string): string => sink(`      type: script\n      command: [/x]\n      events: ${list}\n`);
    expect(load(ev('[rs.down, "vrrp.*", "*"]')).alerts.sinks[0]?.events).toEqual(['rs.down', 'vrrp.*', '*']);
    expect(messagesAt(ev('[rs.donw]'), 'alerts.sinks[0].events[0]')[0]).toContain('unknown event "rs.donw"; did you mean "rs.down"?');
    expect(messagesAt(ev('["nothing.*"]'), 'alerts.sinks[0].events[0]')[0]).toContain('unknown event');
  });

  it('accepts secrets from files for pagerduty and opsgenie, not both forms', () => {
    expect(load(sink('      type: pagerduty\n      routing_key_file: /etc/lvskeep/pd.key\n')).alerts.sinks[0]?.routing_key_file).toBe('/etc/lvskeep/pd.key');
    expect(messagesAt(sink('      type: opsgenie\n      api_key: k\n      api_key_file: /etc/k\n'), 'alerts.sinks[0].api_key_file')).toEqual(['use either api_key or api_key_file, not both']);
    expect(messagesAt(sink('      type: slack\n      url: https://example.com/x\n      teams_format: adaptive\n'), 'alerts.sinks[0].teams_format')).toEqual([
      'teams_format is not used by slack sinks (only by teams)',
    ]);
  });

  it('validates cron expressions and time zones', () => {
    const sch = (cron: string, tz = 'UTC'): string => `schedules:\n  - { name: n, cron: "${cron}", timezone: ${tz}, action: reload }\n`;
    expect(load(sch('0 8 * * 1-5', 'Europe/Berlin')).schedules[0]).toMatchObject({ cron: '0 8 * * 1-5', timezone: 'Europe/Berlin' });
    expect(messagesAt(sch('0 25 * * *'), 'schedules[0].cron')[0]).toContain('hour');
    expect(messagesAt(sch('every day'), 'schedules[0].cron')[0]).toContain('invalid cron expression');
    expect(messagesAt(sch('0 8 * * *', 'Mars/Base'), 'schedules[0].timezone')[0]).toContain('unknown time zone');
  });

  it('maintenance schedules need targets and a duration that reference real things', () => {
    const yaml = (sched: string): string => `${vs('    address: 203.0.113.10:80\n    real_servers:\n      - address: 198.51.100.11\n')}schedules:\n  - ${sched}\n`;
    expect(messagesAt(yaml('{ name: m, cron: "0 2 * * 0", action: maintenance }'), 'schedules[0]')).toEqual([
      'a maintenance schedule needs a duration',
      'a maintenance schedule needs targets',
    ]);
    const ok = load(yaml('{ name: m, cron: "0 2 * * 0", action: maintenance, duration: 30m, targets: [{ virtual_server: web, real_server: 198.51.100.11 }] }'));
    expect(ok.schedules[0]).toMatchObject({ duration: 1_800_000, timezone: 'UTC' });
    expect(messagesAt(yaml('{ name: m, cron: "0 2 * * 0", action: maintenance, duration: 30m, targets: [{ virtual_server: nope }] }'), 'schedules[0].targets[0].virtual_server')[0]).toContain(
      'unknown virtual server "nope"',
    );
    expect(messagesAt(yaml('{ name: d, cron: "0 2 * * 0", action: digest, sinks: [mail] }'), 'schedules[0].sinks[0]')).toEqual(['unknown sink "mail"']);
    expect(messagesAt(yaml('{ name: d, cron: "0 2 * * 0", action: reload, duration: 1m }'), 'schedules[0].duration')).toEqual(['duration is only for action maintenance']);
  });
});

describe('tracking on an address owner', () => {
  it('warns that weights are ignored at priority 255', () => {
    const yaml = `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      priority: 255
      virtual_ips: [203.0.113.10/24]
      track: { interfaces: [{ name: eth1, weight: -10 }] }
`;
    expect(warnings(yaml)).toEqual(['t.yaml:6:17: vrrp.instances[0].priority: priority 255 (address owner) is never changed by tracking: non-zero track weights are ignored']);
    expect(warnings(yaml.replace('weight: -10', 'weight: 0'))).toEqual([]);
  });
});

describe('more rules', () => {
  it('only one instance drives the IPVS sync daemon', () => {
    const yaml = `vrrp:
  instances:
    - { name: a, interface: eth0, virtual_router_id: 1, virtual_ips: [203.0.113.1/24], lvs_sync: { interface: eth1, sync_id: 1 } }
    - { name: b, interface: eth0, virtual_router_id: 2, virtual_ips: [203.0.113.2/24], lvs_sync: { interface: eth1, sync_id: 2 } }
`;
    expect(messagesAt(yaml, 'vrrp.instances[1].lvs_sync')).toEqual(['only one instance may set lvs_sync (already set by vrrp.instances[0])']);
    expect(load(yaml.replace(/, lvs_sync: \{ interface: eth1, sync_id: 2 \}/, '')).vrrp.instances[0]?.lvs_sync).toEqual({ interface: 'eth1', sync_id: 1, handover: true, reset_grace: 3000 });
  });

  it('a check source address must be of the probed family', () => {
    const yaml = (check: string): string => vs(`    address: 203.0.113.10:80\n    real_servers:\n      - address: 198.51.100.11\n        check: ${check}\n`);
    expect(messagesAt(yaml('{ type: tcp, bind: "2001:db8::1" }'), 'virtual_servers[0].real_servers[0].check.bind')).toEqual([
      'check.bind is IPv6 but the probe goes to IPv4 198.51.100.11',
    ]);
    expect(load(yaml('{ type: tcp, bind: "2001:db8::1", connect: "[2001:db8::11]:80" }')).virtual_servers[0]?.real_servers[0]?.check?.bind).toEqual({ address: '2001:db8::1', family: 6 });
  });
});

describe('control socket mode', () => {
  it('a mode that lets others in is warned about; owner and group modes are not', () => {
    expect(warnings("control: { mode: '0666' }\n")).toEqual([
      "t.yaml:1:18: control.mode: mode 0666 lets every local user control lvskeep (step-down, drain, maintenance, reload) if they can reach the socket's directory; use '0600' and sudo for operators",
    ]);
    expect(warnings("control: { mode: '0660' }\n")).toEqual([]);
    expect(warnings('control: {}\n')).toEqual([]);
  });
});
