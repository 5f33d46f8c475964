import { describe, expect, it } from 'vitest';
import { AdmissionPolicy, MAX_TRACKED_KEYS } from '../../../src/alerts/policy.js';
import { createEvent } from '../../../src/events/types.js';

const rs = (n: number) => ({ virtualServer: 'tcp 203.0.113.1:80', realServer: `198.51.100.${n}:80` });
const down = (n: number, t: number) => createEvent({ type: 'rs.down', ...rs(n), reason: 'HTTP 503' }, t);
const up = (n: number, t: number) => createEvent({ type: 'rs.up', ...rs(n), reason: 'HTTP 200' }, t);

describe('AdmissionPolicy dedup', () => {
  it('drops a repeat of the same state within the window and lets it through after', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 60_000 });
    expect(p.admit(down(11, 0), 0)).toBe('accept');
    expect(p.admit(down(11, 10_000), 10_000)).toBe('duplicate');
    expect(p.admit(down(12, 10_000), 10_000)).toBe('accept');
    expect(p.admit(down(11, 70_000), 70_000)).toBe('accept');
  });

  it('never suppresses a change of state: down, up, down are all sent', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 60_000 });
    expect([p.admit(down(11, 0), 0), p.admit(up(11, 1), 1), p.admit(down(11, 2), 2)]).toEqual(['accept', 'accept', 'accept']);
  });

  it('with a zero window sends every event', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 0 });
    expect([p.admit(down(11, 0), 0), p.admit(down(11, 0), 0)]).toEqual(['accept', 'accept']);
  });

  it('remembers a bounded number of keys', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 3_600_000 });
    for (let i = 0; i < MAX_TRACKED_KEYS + 500; i++) {
      p.admit(createEvent({ type: 'ipvs.error', operation: 'NEW_DEST', object: `o${i}`, error: 'EEXIST' }, i), i);
    }
    expect(p.trackedKeys).toBeLessThanOrEqual(MAX_TRACKED_KEYS);
  });
});

describe('AdmissionPolicy filters', () => {
  it('filters by type pattern and minimum severity', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 0, events: ['rs.*', 'quorum.lost'], minSeverity: 'warning' });
    expect(p.admit(down(11, 0), 0)).toBe('accept');
    expect(p.admit(createEvent({ type: 'rs.drained', ...rs(11), reason: 'weight 0' }, 0), 0)).toBe('filtered'); // info
    expect(p.admit(createEvent({ type: 'daemon.stopped', reason: 'SIGTERM' }, 0), 0)).toBe('filtered'); // type
    expect(p.admit(createEvent({ type: 'quorum.lost', virtualServer: 'v', reason: 'healthy weight 0, quorum 1', up: 0, quorum: 1 }, 0), 0)).toBe('accept');
  });

  it('lets an info-level recovery through when this sink was told about the problem', () => {
    const p = new AdmissionPolicy({ name: 's', dedupWindowMs: 0, minSeverity: 'warning' });
    expect(p.admit(up(11, 0), 0)).toBe('filtered'); // nothing open
    expect(p.admit(down(11, 1), 1)).toBe('accept');
    expect(p.open.has(down(11, 1).dedupKey)).toBe(true);
    expect(p.admit(up(11, 2), 2)).toBe('accept');
    expect(p.open.size).toBe(0);
    expect(p.admit(up(11, 3), 3)).toBe('filtered');
  });

  it('does not feed a sink its own delivery trouble', () => {
    const p = new AdmissionPolicy({ name: 'slack', dedupWindowMs: 0 });
    expect(p.admit(createEvent({ type: 'alert.delivery_failing', sink: 'slack', error: 'x', dropped: 1 }, 0), 0)).toBe('own-health');
    expect(p.admit(createEvent({ type: 'alert.delivery_failing', sink: 'pd', error: 'x', dropped: 1 }, 0), 0)).toBe('accept');
  });
});
