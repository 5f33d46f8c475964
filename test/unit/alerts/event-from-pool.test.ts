import { describe, expect, it } from 'vitest';
import { eventFromPool } from '../../../src/events/from-pool.js';
import { classify } from '../../../src/events/types.js';
import type { PoolEvent } from '../../../src/pool/types.js';

const vs = 'tcp 203.0.113.1:80';
const rsEvent = (from: string, to: string, reason = 'r', durationMs = 0): PoolEvent => ({
  type: 'real-server-state', virtualServer: vs, realServer: '198.51.100.11:80', from, to, reason, durationMs, at: 0,
});

describe('eventFromPool', () => {
  it('a failed check opens rs-down and the recovery (also into slow start) resolves it', () => {
    const down = eventFromPool(rsEvent('up', 'down', 'HTTP 503'));
    const back = eventFromPool(rsEvent('down', 'slow-start', 'HTTP 200', 90_000));
    expect(down).toEqual({ type: 'rs.down', virtualServer: vs, realServer: '198.51.100.11:80', reason: 'HTTP 503' });
    expect(back).toEqual({ type: 'rs.up', virtualServer: vs, realServer: '198.51.100.11:80', reason: 'HTTP 200', downForMs: 90_000 });
    expect(classify(back!).dedupKey).toBe(classify(down!).dedupKey);
    expect(eventFromPool(rsEvent('flapping', 'up'))?.type).toBe('rs.up');
  });

  it('reports flapping, maintenance on/off and drained; ignores internal progress', () => {
    expect(eventFromPool(rsEvent('up', 'flapping'))?.type).toBe('rs.flapping');
    expect(eventFromPool(rsEvent('up', 'maintenance'))).toMatchObject({ type: 'rs.maintenance', on: true });
    expect(eventFromPool(rsEvent('maintenance', 'up'))).toMatchObject({ type: 'rs.maintenance', on: false });
    expect(eventFromPool(rsEvent('draining', 'drained'))?.type).toBe('rs.drained');
    expect(eventFromPool(rsEvent('slow-start', 'up'))).toBeUndefined();
    expect(eventFromPool(rsEvent('up', 'draining'))).toBeUndefined();
  });

  it('maps service-wide events and drops ignored inputs', () => {
    const svc = (type: PoolEvent['type'], realServer: string | null = null): PoolEvent => ({ type, virtualServer: vs, realServer, from: '', to: '', reason: 'why', durationMs: 0, at: 0 });
    expect(eventFromPool(svc('quorum-lost'))).toEqual({ type: 'quorum.lost', virtualServer: vs, reason: 'why' });
    expect(eventFromPool(svc('quorum-regained'))?.type).toBe('quorum.regained');
    expect(eventFromPool(svc('sorry-on', '198.51.100.99:80'))).toEqual({ type: 'sorry.on', virtualServer: vs, sorryServer: '198.51.100.99:80' });
    expect(eventFromPool(svc('sorry-off'))?.type).toBe('sorry.off');
    expect(eventFromPool(svc('panic-entered'))?.type).toBe('panic.entered');
    expect(eventFromPool(svc('panic-left'))?.type).toBe('panic.left');
    expect(eventFromPool(svc('input-ignored'))).toBeUndefined();
  });
});
