import { describe, expect, it } from 'vitest';
import { classify, createEvent, eventMatches, EVENT_TYPES, type EventBody } from '../../../src/events/types.js';

const rs = { virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80' };

describe('event classification', () => {
  it('a real server recovery resolves the incident its failure opened, under the documented key', () => {
    const down = createEvent({ type: 'rs.down', ...rs, reason: 'HTTP 503', latencyMs: 12 }, 1000);
    const up = createEvent({ type: 'rs.up', ...rs, reason: 'HTTP 200' }, 2000);
    expect(down.dedupKey).toBe('rs-down:tcp 203.0.113.1:80:198.51.100.11:80');
    expect(down).toMatchObject({ severity: 'warning', opens: true, resolves: false, time: 1000, reason: 'HTTP 503' });
    expect(up).toMatchObject({ dedupKey: down.dedupKey, severity: 'info', opens: false, resolves: true, time: 2000 });
  });

  it('pairs every problem type with its recovery', () => {
    const pairs: [EventBody, EventBody][] = [
      [{ type: 'quorum.lost', virtualServer: 'v', reason: 'healthy weight 1, quorum 2', up: 1, quorum: 2 }, { type: 'quorum.regained', virtualServer: 'v', reason: 'healthy weight 2, quorum 2', up: 2, quorum: 2 }],
      [{ type: 'sorry.on', virtualServer: 'v', sorryServer: 's' }, { type: 'sorry.off', virtualServer: 'v', sorryServer: 's' }],
      [{ type: 'panic.entered', virtualServer: 'v', reason: '0 of 4 healthy', up: 0, total: 4 }, { type: 'panic.left', virtualServer: 'v', reason: '3 of 4 healthy', up: 3, total: 4 }],
      [{ type: 'vrrp.split_brain', instance: 'VI_1', peer: '192.0.2.2', cleared: false }, { type: 'vrrp.split_brain', instance: 'VI_1', peer: '192.0.2.2', cleared: true }],
      [{ type: 'vrrp.process', status: 'exited', reason: 'signal SIGKILL', restarts: 0 }, { type: 'vrrp.process', status: 'restarted', reason: 'after signal SIGKILL', restarts: 1 }],
      [{ type: 'daemon.reload_failed', source: 'f', error: 'e' }, { type: 'daemon.reloaded', source: 'f' }],
      [{ type: 'alert.delivery_failing', sink: 'a', error: 'e', dropped: 1 }, { type: 'alert.delivery_recovered', sink: 'a' }],
      [
        { type: 'vrrp.state', instance: 'VI_1', from: 'MASTER', to: 'FAULT', reason: 'eth0 down', priority: 150 },
        { type: 'vrrp.state', instance: 'VI_1', from: 'FAULT', to: 'BACKUP', reason: 'eth0 up', priority: 150 },
      ],
    ];
    for (const [problem, recovery] of pairs) {
      const p = classify(problem);
      const r = classify(recovery);
      expect(p.opens, problem.type).toBe(true);
      expect(p.severity, problem.type).not.toBe('info');
      expect(r.resolves, recovery.type).toBe(true);
      expect(r.dedupKey, recovery.type).toBe(p.dedupKey);
    }
  });

  it('a failover is a warning notice, not an incident; a start-up transition is info', () => {
    expect(classify({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down', priority: 100 }))
      .toEqual({ severity: 'warning', dedupKey: 'vrrp-state:VI_1:MASTER', opens: false, resolves: false });
    expect(classify({ type: 'vrrp.state', instance: 'VI_1', from: 'INIT', to: 'BACKUP', reason: 'start', priority: 100 }).severity).toBe('info');
  });

  it('keys different real servers and services apart', () => {
    const a = classify({ type: 'rs.down', ...rs, reason: 'x' }).dedupKey;
    const b = classify({ type: 'rs.down', virtualServer: rs.virtualServer, realServer: '198.51.100.12:80', reason: 'x' }).dedupKey;
    const c = classify({ type: 'rs.down', virtualServer: 'udp 203.0.113.1:53', realServer: rs.realServer, reason: 'x' }).dedupKey;
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('lists every type once', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });
});

describe('eventMatches', () => {
  it('matches exact types, prefixes and everything', () => {
    expect(eventMatches('rs.down', undefined)).toBe(true);
    expect(eventMatches('rs.down', [])).toBe(true);
    expect(eventMatches('rs.down', ['*'])).toBe(true);
    expect(eventMatches('rs.down', ['rs.*'])).toBe(true);
    expect(eventMatches('rs.down', ['rs.down'])).toBe(true);
    expect(eventMatches('rs.down', ['rs.up', 'vrrp.*'])).toBe(false);
    expect(eventMatches('rsx.down' as 'rs.down', ['rs.*'])).toBe(false);
  });
});
