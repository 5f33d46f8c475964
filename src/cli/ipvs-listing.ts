/**
 * The IPVS table printed the way `ipvsadm -Ln` prints it (plain, --stats or --rate), so that operators and
 * scripts used to ipvsadm read lvskeep's view the same way. Column widths follow ipvsadm v1.31.
 */
import { prefixToIpv4Mask, hostPrefix } from '../ipvs/addr.js';
import type { IpvsInfo } from '../ipvs/backend.js';
import { endpointText, type DestState, type Forwarding, type ServiceKey, type ServiceState, type Stats } from '../ipvs/model.js';

export type ListingKind = 'plain' | 'stats' | 'rate';

const FORWARD: Record<Forwarding, string> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local' };
const PROTO: Record<'tcp' | 'udp' | 'sctp', string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

function serviceText(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `FWM  ${key.fwmark}${key.family === 6 ? ' IPv6' : ''}`;
  return `${PROTO[key.protocol].padEnd(4)} ${endpointText(key.family, key.address, key.port)}`;
}

function serviceFlags(s: ServiceState): string {
  let text = ` ${s.scheduler}`;
  if (s.schedulerFlags.length > 0) text += ` (${[...s.schedulerFlags].sort().join(',')})`;
  if (s.persistence) {
    text += ` persistent ${s.persistence.timeout}`;
    const prefix = s.persistence.netmaskPrefix;
    if (prefix !== hostPrefix(s.key.family)) text += ` mask ${s.key.family === 6 ? String(prefix) : prefixToIpv4Mask(prefix)}`;
  }
  if (s.onePacket) text += ' ops';
  return text;
}

function destText(d: DestState): string {
  return endpointText(d.family, d.address, d.port);
}

function counters(kind: 'stats' | 'rate', st: Stats | undefined): string {
  const s = st ?? { conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
  const values = kind === 'stats' ? [s.conns, s.inPackets, s.outPackets, s.inBytes, s.outBytes] : [s.cps, s.inPps, s.outPps, s.inBps, s.outBps];
  return values.map((v) => ` ${String(v).padStart(8)}`).join('');
}

export function formatListing(table: readonly ServiceState[], info: IpvsInfo, kind: ListingKind = 'plain'): string {
  const lines = [`IP Virtual Server version ${info.version} (size=${info.connTableSize})`];
  if (kind === 'plain') {
    lines.push('Prot LocalAddress:Port Scheduler Flags');
    lines.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  } else {
    const names = kind === 'stats' ? ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'] : ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];
    lines.push(`${'Prot LocalAddress:Port'.padEnd(33)}${names.map((n) => ` ${n.padStart(8)}`).join('')}`);
    lines.push('  -> RemoteAddress:Port');
  }
  for (const s of table) {
    if (kind === 'plain') lines.push(`${serviceText(s.key)}${serviceFlags(s)}`);
    else lines.push(`${serviceText(s.key).padEnd(33)}${counters(kind, s.stats)}`);
    for (const d of s.dests) {
      const head = `  -> ${destText(d).padEnd(28)}`;
      if (kind === 'plain') {
        lines.push(`${head} ${FORWARD[d.forwarding].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}`);
      } else {
        lines.push(`${head}${counters(kind, d.stats)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
