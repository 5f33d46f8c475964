import { describe, expect, it } from 'vitest';
import type { StatusResult } from '../../../src/control/protocol.js';
import { formatDuration, formatStatus, lvsSyncText, serviceColumn } from '../../../src/control/status-format.js';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

const status: StatusResult = {
  version: '0.1.0',
  pid: 4242,
  startedAt: NOW - 3 * 3600_000 - 12 * 60_000,
  now: NOW,
  vrrp: [
    { name: 'VI_1', state: 'MASTER', basePriority: 150, effectivePriority: 150, masterAddress: '192.0.2.1', lastChange: { at: NOW - 65_000, reason: 'master down timer expired' }, faultReasons: [] },
    { name: 'VI_2', state: 'BACKUP', basePriority: 100, effectivePriority: 80, masterAddress: '192.0.2.2', lastChange: { at: NOW - 5000, reason: 'higher priority advert' }, faultReasons: [] },
  ],
  vips: [{ instance: 'VI_1', address: '203.0.113.1', interface: 'eth0', held: true }],
  virtualServers: [
    {
      name: 'web',
      id: 'tcp 203.0.113.1:80',
      scheduler: 'wlc',
      quorumUp: true,
      panic: false,
      sorryActive: false,
      stats: { conns: 10, inPackets: 20, outPackets: 30, inBytes: 40, outBytes: 50, cps: 1, inPps: 2, outPps: 3, inBps: 4, outBps: 5 },
      realServers: [
        {
          id: '198.51.100.11:80', forwarding: 'dr', configuredWeight: 10, kernelWeight: 10, status: 'up', statusSince: NOW - 600_000, manual: 'none',
          lastCheck: { ok: true, at: NOW - 2000, latencyMs: 3.4, message: 'HTTP 200' }, activeConns: 3, inactiveConns: 12,
          stats: { conns: 7, inPackets: 1, outPackets: 2, inBytes: 3, outBytes: 4, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 },
        },
        {
          id: '198.51.100.12:80', forwarding: 'dr', configuredWeight: 10, kernelWeight: 0, status: 'draining', statusSince: NOW - 30_000, manual: 'drain',
          lastCheck: null, activeConns: 1, inactiveConns: 0,
        },
      ],
    },
    { name: 'dns', id: 'fwmark 7', scheduler: 'rr', quorumUp: false, panic: true, sorryActive: true, realServers: [] },
  ],
  alerts: { pending: 2, sinks: [{ name: 'slack', pending: 2, failing: true }, { name: 'pagerduty', pending: 0, failing: false }] },
};

describe('formatStatus', () => {
  const text = formatStatus(status);
  const lines = text.split('\n');

  it('starts with version, pid and uptime', () => {
    expect(lines[0]).toBe('lvskeep 0.1.0, pid 4242, up 3h12m');
  });

  it('prints one line per VRRP instance with state, priority, master and the last change', () => {
    expect(text).toContain('  VI_1             MASTER  priority 150, master this node, since 1m05s: master down timer expired');
    expect(text).toContain('  VI_2             BACKUP  priority 80 (base 100), master 192.0.2.2, since 5s: higher priority advert');
    expect(text).toContain('VIPs: 203.0.113.1 on eth0 (held)');
  });

  it('keeps the ipvsadm -Ln columns where ipvsadm prints them', () => {
    const header = lines.find((l) => l.startsWith('  -> RemoteAddress:Port'))!;
    const row = lines.find((l) => l.startsWith('  -> 198.51.100.11:80'))!;
    expect(header.startsWith('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn')).toBe(true);
    expect(row.startsWith('  -> 198.51.100.11:80             Route   10     3          12        ')).toBe(true);
    // lvskeep's own columns start where the header says.
    expect(row.indexOf(' 10     up')).toBe(header.indexOf(' Conf') - 0);
    expect(row).toContain('ok 3 ms 2s ago: HTTP 200');
    expect(text).toContain('TCP  203.0.113.1:80 wlc  [web] quorum up');
  });

  it('shows the kernel weight and the operator state of a drained server', () => {
    const row = lines.find((l) => l.startsWith('  -> 198.51.100.12:80'))!;
    expect(row).toContain(' Route   0      1          0         ');
    expect(row).toContain('draining');
    expect(row).toContain('no check result');
  });

  it('flags lost quorum, panic and the sorry server', () => {
    expect(text).toContain('FWM  7 rr  [dns] QUORUM LOST, PANIC, SORRY SERVER');
  });

  it('names failing alert sinks', () => {
    expect(lines.at(-2)).toBe('Alerts pending: 2 (delivery failing: slack)');
  });

  it('prints counters in --stats and rates in --rate, a dash where the daemon gave none', () => {
    const stats = formatStatus(status, 'stats');
    expect(stats).toContain('Conns   InPkts  OutPkts  InBytes OutBytes');
    expect(stats).toMatch(/^TCP {2}203\.0\.113\.1:80 +10 +20 +30 +40 +50 {2}\[web\]/m);
    expect(stats).toMatch(/^ {2}-> 198\.51\.100\.12:80 +- +- +- +- +- /m);
    const rate = formatStatus(status, 'rate');
    expect(rate).toContain('CPS    InPPS   OutPPS    InBPS   OutBPS');
    expect(rate).toMatch(/^TCP {2}203\.0\.113\.1:80 +1 +2 +3 +4 +5 {2}\[web\]/m);
  });

  it('says so when there is nothing configured', () => {
    const empty = formatStatus({ ...status, vrrp: [], vips: [], virtualServers: [], alerts: { pending: 0, sinks: [] } });
    expect(empty).toContain('(no instances)');
    expect(empty).toContain('(no virtual servers)');
    expect(empty).toContain('Alerts pending: 0\n');
  });
});

describe('formatStatus with lvs_sync', () => {
  const sync = { interface: 'eth1', syncId: 51, failures: 0 };
  const vi1 = status.vrrp[0]!;

  it('appends the running sync daemon to the VRRP line', () => {
    const text = formatStatus({ ...status, vrrp: [{ ...vi1, lvsSync: { ...sync, wanted: 'master', applied: 'master' } }] });
    expect(text).toContain('  VI_1             MASTER  priority 150, master this node, since 1m05s: master down timer expired  [sync: master on eth1 id 51]\n');
    expect(text).not.toContain('sync error');
  });

  it('instances without lvs_sync get no suffix', () => {
    expect(formatStatus(status)).not.toContain('sync:');
  });

  it('a failing change says FAILING on the line and gives the error on the next one', () => {
    const lvsSync = { ...sync, wanted: 'master' as const, applied: 'backup' as const, failures: 3, lastError: 'NEW_DAEMON master master sync daemon on eth1 syncid 51: EPERM' };
    const lines = formatStatus({ ...status, vrrp: [{ ...vi1, lvsSync }] }).split('\n');
    const at = lines.findIndex((l) => l.startsWith('  VI_1 '));
    expect(lines[at]).toMatch(/ {2}\[sync: master on eth1 id 51, FAILING \(3 attempts\)\]$/);
    expect(lines[at + 1]).toBe(`  ${' '.repeat(16)} sync error: NEW_DAEMON master master sync daemon on eth1 syncid 51: EPERM`);
  });

  it('lvsSyncText: reached, pending, first failure, none', () => {
    expect(lvsSyncText({ ...sync, wanted: 'backup', applied: 'backup' })).toBe('sync: backup on eth1 id 51');
    expect(lvsSyncText({ ...sync, wanted: 'master', applied: 'backup' })).toBe('sync: master on eth1 id 51, pending');
    expect(lvsSyncText({ ...sync, wanted: 'master' })).toBe('sync: master on eth1 id 51, pending'); // nothing read from the kernel yet
    expect(lvsSyncText({ ...sync, wanted: 'backup', failures: 1, lastError: 'EPERM' })).toBe('sync: backup on eth1 id 51, FAILING (1 attempt)');
    expect(lvsSyncText({ ...sync, wanted: 'none', applied: 'none' })).toBe('sync: none');
    expect(lvsSyncText({ ...sync, wanted: 'none', applied: 'master' })).toBe('sync: none, pending');
  });
});

describe('helpers', () => {
  it('formatDuration', () => {
    expect(formatDuration(-5)).toBe('0s');
    expect(formatDuration(59_999)).toBe('59s');
    expect(formatDuration(303_000)).toBe('5m03s');
    expect(formatDuration(3 * 3600_000 + 60_000)).toBe('3h01m');
    expect(formatDuration(52 * 3600_000)).toBe('2d04h');
  });

  it('serviceColumn', () => {
    expect(serviceColumn('udp [2001:db8::1]:53')).toBe('UDP  [2001:db8::1]:53');
    expect(serviceColumn('sctp 203.0.113.1:9')).toBe('SCTP 203.0.113.1:9');
    expect(serviceColumn('fwmark 7 inet6')).toBe('FWM  7 IPv6');
    expect(serviceColumn('weird')).toBe('weird');
  });
});
