import type { AlertDispatcher, DeliveryResult } from '../alerts/dispatcher.js';
import { humanDuration } from '../alerts/format.js';
import type { AlertMessage } from '../alerts/types.js';

export type RealServerHealth = 'up' | 'down' | 'maintenance' | 'drained';

/** The daemon's view of its pools at one moment; the daemon builds it, the digest only reads it. */
export interface PoolSnapshot {
  host: string;
  vrrp: { instance: string; state: string; priority: number }[];
  virtualServers: {
    id: string;
    realServers: { id: string; health: RealServerHealth; weight: number; since?: number }[];
    sorry?: boolean;
    panic?: boolean;
    quorumLost?: boolean;
  }[];
}

/** Lines per virtual server are capped so a digest of a huge pool stays a readable chat message. */
const MAX_VS_LINES = 50;

function age(since: number | undefined, now: number): string {
  return since === undefined ? '' : ` for ${humanDuration(now - since)}`;
}

/** A summary message of the pool state: counts in the fields, one line per virtual server naming what is wrong. */
export function buildDigest(snap: PoolSnapshot, now: number, schedule: string): Extract<AlertMessage, { kind: 'digest' }> {
  let total = 0;
  let up = 0;
  let down = 0;
  let maint = 0;
  let drained = 0;
  const lines: string[] = [];
  for (const vs of snap.virtualServers) {
    const rs = vs.realServers;
    const vsUp = rs.filter((r) => r.health === 'up').length;
    total += rs.length;
    up += vsUp;
    down += rs.filter((r) => r.health === 'down').length;
    maint += rs.filter((r) => r.health === 'maintenance').length;
    drained += rs.filter((r) => r.health === 'drained').length;
    const flags = [vs.quorumLost ? 'QUORUM LOST' : '', vs.panic ? 'PANIC' : '', vs.sorry ? 'sorry server on' : ''].filter(Boolean);
    const notUp = rs.filter((r) => r.health !== 'up').map((r) => `${r.id} ${r.health}${age(r.since, now)}`);
    if (lines.length < MAX_VS_LINES) {
      lines.push(`${vs.id}: ${vsUp}/${rs.length} up${flags.length ? ` [${flags.join(', ')}]` : ''}${notUp.length ? ` (${notUp.join('; ')})` : ''}`);
    }
  }
  if (snap.virtualServers.length > MAX_VS_LINES) lines.push(`… and ${snap.virtualServers.length - MAX_VS_LINES} more virtual servers`);
  if (lines.length === 0) lines.push('no virtual servers configured');
  const vrrp = snap.vrrp.map((v) => `${v.instance} ${v.state} (${v.priority})`).join(', ') || 'none';
  const healthy = down === 0 && snap.virtualServers.every((v) => !v.quorumLost && !v.panic);
  return {
    kind: 'digest',
    title: `lvskeep digest for ${snap.host}: ${up}/${total} real servers up${healthy ? '' : ', attention needed'}`,
    text: lines.join('\n'),
    fields: [
      ['host', snap.host],
      ['schedule', schedule],
      ['VRRP', vrrp],
      ['virtual servers', String(snap.virtualServers.length)],
      ['real servers up', `${up}/${total}`],
      ['down', String(down)],
      ['maintenance', String(maint)],
      ['drained', String(drained)],
    ],
    time: now,
  };
}

/** The digest callback for the scheduler: snapshot the pools, build the message, hand it to the dispatcher. */
export function digestSender(
  snapshot: () => PoolSnapshot | Promise<PoolSnapshot>,
  dispatcher: Pick<AlertDispatcher, 'sendMessage'>,
  now: () => number,
): (sinks: readonly string[] | undefined, schedule: string) => Promise<DeliveryResult[]> {
  return async (sinks, schedule) => dispatcher.sendMessage(buildDigest(await snapshot(), now(), schedule), sinks);
}
