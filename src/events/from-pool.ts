/**
 * Maps the pool policy's events (src/pool) onto the daemon's event stream. Pure: one pool event in, zero or one
 * event body out (bookkeeping such as ignored inputs is not news for operators).
 */
import type { PoolEvent } from '../pool/types.js';
import type { EventBody } from './types.js';

/** Pool states in which a real server takes no traffic because of its health. */
const OUT = new Set(['down', 'flapping']);

export function eventFromPool(p: PoolEvent): EventBody | undefined {
  const vs = p.virtualServer;
  switch (p.type) {
    case 'quorum-lost':
      return { type: 'quorum.lost', virtualServer: vs, reason: p.reason };
    case 'quorum-regained':
      return { type: 'quorum.regained', virtualServer: vs, reason: p.reason };
    case 'sorry-on':
      return { type: 'sorry.on', virtualServer: vs, sorryServer: p.realServer ?? 'sorry server' };
    case 'sorry-off':
      return { type: 'sorry.off', virtualServer: vs, sorryServer: p.realServer ?? 'sorry server' };
    case 'panic-entered':
      return { type: 'panic.entered', virtualServer: vs, reason: p.reason };
    case 'panic-left':
      return { type: 'panic.left', virtualServer: vs, reason: p.reason };
    case 'input-ignored':
      return undefined;
    case 'real-server-state':
      return realServerEvent(p);
  }
}

function realServerEvent(p: PoolEvent): EventBody | undefined {
  if (p.realServer === null) return undefined;
  const ref = { virtualServer: p.virtualServer, realServer: p.realServer };
  if (p.to === 'down') return { type: 'rs.down', ...ref, reason: p.reason };
  if (p.to === 'flapping') return { type: 'rs.flapping', ...ref, reason: p.reason };
  if (p.to === 'maintenance') return { type: 'rs.maintenance', ...ref, on: true, reason: p.reason };
  if (p.to === 'drained') return { type: 'rs.drained', ...ref, reason: p.reason };
  if (p.from === 'maintenance') return { type: 'rs.maintenance', ...ref, on: false, reason: p.reason };
  // Back in service after a health failure (straight to up, or to slow start): the recovery of rs.down.
  if (OUT.has(p.from) && (p.to === 'up' || p.to === 'slow-start')) {
    return { type: 'rs.up', ...ref, reason: p.reason, downForMs: p.durationMs };
  }
  // slow-start -> up, draining, drained -> up after `enable`: internal progress, not an alert.
  return undefined;
}
