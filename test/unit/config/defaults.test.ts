import { describe, expect, it } from 'vitest';
import { load, messagesAt } from './helpers.js';

describe('defaults', () => {
  it('an empty file gives every documented default', () => {
    const c = load('');
    expect(c.global).toEqual({ startup_delay: 0, state_dir: '/var/lib/lvskeep', watch_config: false, vrrp_nice: -10, vrrp_rt_priority: 10, vrrp_rlimit_rttime: 100_000 });
    expect(c.director).toEqual({ sysctls: 'manual' });
    expect(c.vrrp).toEqual({ instances: [], sync_groups: [] });
    expect(c.virtual_servers).toEqual([]);
    expect(c.ipvs).toEqual({ reconcile_interval: 10_000, owned: 'configured', flush_on_stop: false });
    expect(c.backend).toEqual({ ipvs: 'netlink', vip: 'netlink' });
    expect(c.alerts).toEqual({ sinks: [] });
    expect(c.schedules).toEqual([]);
    expect(c.control).toEqual({ socket: '/run/lvskeep/lvskeep.sock', mode: 0o600 });
    expect(c.metrics).toEqual({ enabled: true, listen: { address: '127.0.0.1', port: 9595, family: 4 } });
    expect(c.log).toEqual({ level: 'info', format: 'json' });
  });

  it('fills VRRP instance defaults', () => {
    const c = load('vrrp:\n  instances:\n    - { name: v, interface: eth0, virtual_router_id: 1, virtual_ips: [203.0.113.1/24] }\n');
    expect(c.vrrp.instances[0]).toEqual({
      name: 'v',
      interface: 'eth0',
      virtual_router_id: 1,
      priority: 100,
      advert_interval: 1000,
      version: 3,
      preempt: true,
      preempt_delay: 0,
      accept: true,
      virtual_ips: [{ address: { address: '203.0.113.1', prefix: 24, family: 4 } }],
      unicast_peers: [],
      transport: 'vrrp',
      udp_port: 1112,
      track: { interfaces: [], checks: [], scripts: [] },
      auth: { type: 'none' },
      garp: { delay: 0, repeat: 5, interval: 10, refresh: 0 },
    });
  });

  it('fills virtual server, real server and check defaults', () => {
    const c = load('virtual_servers:\n  - address: 203.0.113.1:80\n    check: { type: http }\n    real_servers:\n      - address: 198.51.100.1\n');
    const vs = c.virtual_servers[0];
    expect(vs).toMatchObject({
      name: '203.0.113.1:80',
      address: { address: '203.0.113.1', port: 80, family: 4 },
      protocol: 'tcp',
      family: 'inet',
      scheduler: 'wlc',
      scheduler_flags: [],
      forwarding: 'nat',
      tunnel_type: 'ipip',
      one_packet: false,
      on_failure: 'inhibit',
      quorum: 1,
      quorum_hysteresis: 0,
      panic_threshold: 0,
      slow_start: 0,
      flap: { max_changes: 0, window: 60_000, penalty: 60_000 },
      drain_timeout: 300_000,
    });
    expect(vs?.persistence).toBeUndefined();
    expect(vs?.sorry_server).toBeUndefined();
    expect(vs?.real_servers[0]).toEqual({
      address: { address: '198.51.100.1', port: 80, family: 4 },
      weight: 1,
      forwarding: 'nat',
      upper_threshold: 0,
      lower_threshold: 0,
      check: {
        type: 'http',
        interval: 2000,
        timeout: 1000,
        rise: 2,
        fall: 3,
        retries: 0,
        retry_delay: 500,
        assume: 'down',
        jitter: 10,
        method: 'GET',
        path: '/',
        expect: { status: [{ from: 200, to: 299 }] },
        reuse_connection: false,
      },
    });
  });

  it('names services after their address, IPv6 canonical, or fwmark', () => {
    const c = load('virtual_servers:\n  - address: "[2001:DB8:0::1]:443"\n  - fwmark: 9\n  - { fwmark: 9, family: inet6 }\n');
    expect(c.virtual_servers.map((v) => v.name)).toEqual(['[2001:db8::1]:443', 'fwmark:9', 'fwmark:9/inet6']);
  });

  it('fills alert sink defaults', () => {
    const c = load('alerts:\n  sinks:\n    - { name: w, type: webhook, url: "https://example.com/hook" }\n');
    expect(c.alerts.sinks[0]).toMatchObject({ min_severity: 'info', timeout: 5000, queue_size: 1000, retries: 5, group_window: 2000, dedup_window: 300_000 });
    expect(c.alerts.sinks[0]?.repeat).toBeUndefined();
  });

  it('control.mode is an octal string; an unquoted number is refused with a hint', () => {
    expect(load("control: { mode: '0640' }\n").control.mode).toBe(0o640);
    expect(messagesAt('control: { mode: 0640 }\n', 'control.mode')).toEqual(["write the mode as a quoted octal string: mode: '0600'"]);
  });

  it('metrics.listen accepts IPv6', () => {
    expect(load('metrics: { listen: "[::1]:9100" }\n').metrics.listen).toEqual({ address: '::1', port: 9100, family: 6 });
  });

  it('check status may be a single code or range; an unknown check type is named', () => {
    const c = load('virtual_servers:\n  - address: 203.0.113.1:80\n    check: { type: http, expect: { status: "200-204" } }\n');
    const chk = c.virtual_servers[0]?.check;
    expect(chk?.type === 'http' && chk.expect.status).toEqual([{ from: 200, to: 204 }]);
    expect(messagesAt('virtual_servers:\n  - address: 203.0.113.1:80\n    check: { type: ping }\n', 'virtual_servers[0].check.type')).toEqual([
      'check type must be one of http, https, tcp, script, dns',
    ]);
  });
});
