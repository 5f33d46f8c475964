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
 * TCP states not worth handing over: the connection is over (TIME_WAIT after a close, CLOSE after a reset). On a
 * busy director they are most of the table (every closed connection stays in TIME_WAIT for two minutes), and a
 * late packet of one is at most answered with a reset, which the reset guard drops.
 */
const FINISHED_TCP_STATES: ReadonlySet<string> = new Set(['TIME_WAIT', 'CLOSE']);

export const isFinishedTcp = (c: ProcConn): boolean => c.protocol === 'TCP' && FINISHED_TCP_STATES.has(c.state);

/** One row of /proc/net/ip_vs_conn: the connection, or why it is left out. */
function parseConnRow(line: string): ProcConn | string {
  const f = line.trim().split(/\s+/);
  const proto = f[0];
  if (proto !== 'TCP' && proto !== 'UDP') return 'other-protocol';
  if ((f[1] ?? '').includes(':')) return 'ipv6';
  const client = hexAddr(f[1] ?? '');
  const clientPort = hexPort(f[2] ?? '');
  const virtual = hexAddr(f[3] ?? '');
  const virtualPort = hexPort(f[4] ?? '');
  const dest = hexAddr(f[5] ?? '');
  const destPort = hexPort(f[6] ?? '');
  const state = f[7];
  const expiresS = Number(f[8]);
  if (client === undefined || clientPort === undefined || virtual === undefined || virtualPort === undefined || dest === undefined || destPort === undefined || state === undefined || !Number.isInteger(expiresS)) {
    return 'unreadable';
  }
  // Persistence templates: the kernel's sync daemon carries them.
  if (clientPort === 0) return 'template';
  return { protocol: proto, client, clientPort, virtual, virtualPort, dest, destPort, state, expiresS };
}

export interface ConnCollectorOptions {
  /** At most this many connections are kept; further rows are counted as over-limit. */
  limit?: number;
  /** Leave finished TCP connections out (counted as finished) before they count against the limit. */
  skipFinished?: boolean;
}

/**
 * Reads /proc/net/ip_vs_conn a line at a time (the first line is its header), so that a large table can be read
 * in chunks and only the rows that matter count against the limit: on a busy director most rows are TIME_WAIT.
 */
export class ConnCollector {
  private readonly conns: ProcConn[] = [];
  private readonly skipped: Record<string, number> = {};
  private header = true;
  private readonly limit: number;

  constructor(private readonly opts: ConnCollectorOptions = {}) {
    this.limit = opts.limit ?? Number.POSITIVE_INFINITY;
  }

  get full(): boolean {
    return this.conns.length >= this.limit;
  }

  add(line: string): void {
    if (this.header) {
      this.header = false;
      return;
    }
    if (line.trim() === '') return;
    const row = parseConnRow(line);
    if (typeof row === 'string') bump(this.skipped, row);
    else if (this.opts.skipFinished === true && isFinishedTcp(row)) bump(this.skipped, 'finished');
    else if (this.full) bump(this.skipped, 'over-limit');
    else this.conns.push(row);
  }

  /** Rows that were never read (a bound on the bytes read was reached), counted as one reason. */
  unread(): void {
    bump(this.skipped, 'unread');
  }

  table(): ProcConnTable {
    return { conns: this.conns, skipped: this.skipped };
  }
}

/**
 * The IPv4 TCP and UDP rows of /proc/net/ip_vs_conn, at most `limit` of them (the rest are counted as
 * over-limit). Persistence templates (client port 0) are left out: the kernel's sync daemon carries them.
 */
export function parseProcConns(text: string, limit = Number.POSITIVE_INFINITY): ProcConnTable {
  const c = new ConnCollector({ limit });
  for (const line of text.split('\n')) c.add(line);
  return c.table();
}
