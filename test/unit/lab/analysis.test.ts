import { describe, expect, it } from 'vitest';
import { alertMentions, formatCounts, parseAlerts, parseDestinations, parseProbeLog, summarizeProbes, weightOf } from '../../../src/lab/analysis.js';

const LISTING = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  203.0.113.10:80 rr
  -> 198.51.100.11:80             Masq    1      0          4
  -> 198.51.100.12:80             Masq    0      2          0
  -> 198.51.100.13:80             Route   3      0          0
`;

describe('ipvsadm -Ln', () => {
  it('reads each destination with forwarding, weight and counters', () => {
    expect(parseDestinations(LISTING)).toEqual([
      { addr: '198.51.100.11:80', forward: 'Masq', weight: 1, active: 0, inactive: 4 },
      { addr: '198.51.100.12:80', forward: 'Masq', weight: 0, active: 2, inactive: 0 },
      { addr: '198.51.100.13:80', forward: 'Route', weight: 3, active: 0, inactive: 0 },
    ]);
  });

  it('weightOf tells 0 from absent', () => {
    expect(weightOf(LISTING, '198.51.100.12')).toBe(0);
    expect(weightOf(LISTING, '198.51.100.14')).toBeUndefined();
    expect(weightOf('', '198.51.100.11')).toBeUndefined();
  });
});

describe('probe log', () => {
  const log = ['0 5 1 web1', '10 6 1 web2', '20 1000 0 ETIMEDOUT', '30 4 0 ECONNREFUSED', '40 5 1 web3', 'torn li', '50 5 1 web1', ''].join('\n');

  it('parses lines and skips torn ones', () => {
    const p = parseProbeLog(log);
    expect(p).toHaveLength(6);
    expect(p[2]).toEqual({ sentMs: 20, durationMs: 1000, ok: false, what: 'ETIMEDOUT' });
  });

  it('summarizes a window: counts per server, errors, longest time between answers, slowest success (failures not counted)', () => {
    const s = summarizeProbes(parseProbeLog(log));
    expect(s).toEqual({ total: 6, ok: 4, failed: 2, byServer: { web1: 2, web2: 1, web3: 1 }, errors: { ETIMEDOUT: 1, ECONNREFUSED: 1 }, longestGapMs: 29, gapFromMs: 16, slowestMs: 6, failedAtMs: [20, 30] });
    const w = summarizeProbes(parseProbeLog(log), 40, 60);
    expect(w).toMatchObject({ total: 2, failed: 0, longestGapMs: 10 });
  });

  it('the gap is the client\'s: time without an answer arriving, so a request that waited out an outage still shows it', () => {
    const s = summarizeProbes(parseProbeLog(['0 5 1 web1', '10 1500 1 web2', '20 5 1 web3', '1600 5 1 web1'].join('\n')));
    expect(s).toMatchObject({ ok: 4, failed: 0, longestGapMs: 1485, gapFromMs: 25, slowestMs: 1500 });
  });

  it('an empty window has no gap and no answers', () => {
    expect(summarizeProbes([], 0, 100)).toMatchObject({ total: 0, ok: 0, longestGapMs: 0 });
  });
});

describe('alerts printed by the receiver', () => {
  const out = [
    'listening 203.0.113.50:9000',
    `ALERT ${JSON.stringify({ host: 'lab-d1', title: '[WARNING] Real server 198.51.100.12:80 DOWN', events: [{ type: 'rs.down', address: '198.51.100.12:80' }] })}`,
    'ALERT {not json',
    'ALERT [1,2]',
  ].join('\n');

  it('keeps JSON object bodies and labels them host: title', () => {
    const a = parseAlerts(out);
    expect(a).toHaveLength(1);
    expect(a[0]?.text).toBe('lab-d1: [WARNING] Real server 198.51.100.12:80 DOWN');
    expect(alertMentions(a[0]!, ['rs.down', '198.51.100.12'])).toBe(true);
    expect(alertMentions(a[0]!, ['rs.up'])).toBe(false);
  });
});

it('formatCounts lists expected names first, zeros included, then surprises', () => {
  expect(formatCounts({ web3: 2, 'ERR:ECONNRESET': 1 }, ['web1', 'web2', 'web3'])).toBe('web1=0 web2=0 web3=2 ERR:ECONNRESET=1');
});
