// The kernel's own IPVS tables as /proc/net/ip_vs and /proc/net/ip_vs_conn print them (IPv4 rows: addresses and
// ports in upper-case hex). These are the only place the connection table can be read: IPVS generic netlink has
// no connection dump. Pure parsers; rows they cannot read are counted, never guessed.
import { formatIPv4 } from '../../net/ip.js';

export interface ProcService {
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
  /** Real servers by "address:port", with the forwarding method the kernel prints (Masq, Route, Tunnel, Local). */
  dests: Map<string, string>;
}

export interface ProcConn {
  protocol: 'TCP' | 'UDP';
  client: string;
  clientPort: number;
  virtual: string;
  virtualPort: number;
  dest: string;
  destPort: number;
  /** The kernel's state name: ESTABLISHED, SYN_RECV, TIME_WAIT... (UDP rows say UDP). */
  state: string;
  expiresS: number;
}

export interface ProcConnTable {
  conns: ProcConn[];
  /** Rows left out, by why: ipv6, other-protocol (SCTP, ICMP...), unreadable. */
  skipped: Record<string, number>;
}

const HEX_ADDR = /^[0-9A-F]{8}$/;
const HEX_PORT = /^[0-9A-F]{4}$/;

function hexAddr(text: string): string | undefined {
  return HEX_ADDR.test(text) ? formatIPv4(Buffer.from(text, 'hex')) : undefined;
}

function hexPort(text: string): number | undefined {
  return HEX_PORT.test(text) ? Number.parseInt(text, 16) : undefined;
}

/** "C0000264:0050" -> ["192.0.2.100", 80]. */
function hexEndpoint(text: string): [string, number] | undefined {
  const [a, p, extra] = text.split(':');
  if (a === undefined || p === undefined || extra !== undefined) return undefined;
  const addr = hexAddr(a);
  const port = hexPort(p);
  return addr === undefined || port === undefined ? undefined : [addr, port];
}

function bump(counts: Record<string, number>, why: string): void {
  counts[why] = (counts[why] ?? 0) + 1;
}

export const serviceKey = (protocol: string, address: string, port: number): string => `${protocol} ${address}:${port}`;

/** The TCP and UDP IPv4 services of /proc/net/ip_vs, by serviceKey (fwmark and IPv6 services are left out). */
export function parseProcServices(text: string): Map<string, ProcService> {
  const out = new Map<string, ProcService>();
  let current: ProcService | undefined;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'TCP' || f[0] === 'UDP') {
      const ep = hexEndpoint(f[1] ?? '');
      current = ep ? { protocol: f[0], address: ep[0], port: ep[1], dests: new Map() } : undefined;
      if (current) out.set(serviceKey(current.protocol, current.address, current.port), current);
    } else if (f[0] === '->') {
      const ep = hexEndpoint(f[1] ?? '');
      if (current && ep && f[2] !== undefined) current.dests.set(`${ep[0]}:${ep[1]}`, f[2]);
    } else if (f[0] !== '') {
      current = undefined; // FWM, IPv6 or a header line: its real servers are not ours to read
    }
  }
  return out;
}

/**
 * The IPv4 TCP and UDP rows of /proc/net/ip_vs_conn, at most `limit` of them (the rest are counted as
 * over-limit). Persistence templates (client port 0) are left out: the kernel's sync daemon carries them.
 */
export function parseProcConns(text: string, limit = Number.POSITIVE_INFINITY): ProcConnTable {
  const conns: ProcConn[] = [];
  const skipped: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    const proto = f[0];
    if (proto !== 'TCP' && proto !== 'UDP') {
      bump(skipped, 'other-protocol');
      continue;
    }
    if ((f[1] ?? '').includes(':')) {
      bump(skipped, 'ipv6');
      continue;
    }
    const client = hexAddr(f[1] ?? '');
    const clientPort = hexPort(f[2] ?? '');
    const virtual = hexAddr(f[3] ?? '');
    const virtualPort = hexPort(f[4] ?? '');
    const dest = hexAddr(f[5] ?? '');
    const destPort = hexPort(f[6] ?? '');
    const state = f[7];
    const expiresS = Number(f[8]);
    if (client === undefined || clientPort === undefined || virtual === undefined || virtualPort === undefined || dest === undefined || destPort === undefined || state === undefined || !Number.isInteger(expiresS)) {
      bump(skipped, 'unreadable');
      continue;
    }
    if (clientPort === 0) {
      bump(skipped, 'template');
      continue;
    }
    if (conns.length >= limit) {
      bump(skipped, 'over-limit');
      continue;
    }
    conns.push({ protocol: proto, client, clientPort, virtual, virtualPort, dest, destPort, state, expiresS });
  }
  return { conns, skipped };
}
