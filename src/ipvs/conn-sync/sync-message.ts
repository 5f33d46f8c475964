// The IPVS connection-sync datagram, version 1, IPv4 entries: what the kernel's master sync daemon multicasts to
// 224.0.0.81:8848 and its backup daemon copies into the connection table (net/netfilter/ipvs/ip_vs_sync.c).
// lvskeep sends the same datagrams itself when this director stops being master, so that the new master knows
// every connection at once instead of after the kernel's batching (up to ~2 s, and lost when the master daemon
// stops). Pure encode/decode; the layout is the kernel's wire format, all fields big-endian:
//   header (8 bytes): reserved=0, sync id, total size (u16), connection count (u8), version=1, spare=0 (u16)
//   IPv4 entry (36 bytes): type=0, protocol, version<<12|size (u16), flags (u32), state (u16), client port,
//   virtual port, destination port (u16), fwmark (u32), timeout in s (u32), client, virtual, destination address.
import { formatIPv4, parseIPv4 } from '../../net/ip.js';
import { isFinishedTcp, serviceKey, type ProcConn, type ProcService } from './proc-tables.js';

export const SYNC_GROUP = '224.0.0.81';
export const SYNC_PORT = 8848;
export const SYNC_HEADER_LEN = 8;
export const SYNC_V4_CONN_LEN = 36;
/** The connection count is one byte. */
export const MAX_CONNS_PER_MESSAGE = 255;

/** Forwarding method bits of an IPVS connection's flags (IP_VS_CONN_F_*). */
export const CONN_FWD = { Masq: 0, Local: 1, Tunnel: 2, Route: 3 } as const;

/** IPVS TCP states by the names /proc/net/ip_vs_conn prints (IP_VS_TCP_S_*). */
export const TCP_STATES: Readonly<Record<string, number>> = {
  NONE: 0,
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT: 4,
  TIME_WAIT: 5,
  CLOSE: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  LISTEN: 9,
  SYNACK: 10,
};

const PROTOCOLS = { TCP: 6, UDP: 17 } as const;

export interface SyncConn {
  protocol: number;
  flags: number;
  state: number;
  clientPort: number;
  virtualPort: number;
  destPort: number;
  fwmark: number;
  /** Seconds; 0 lets the receiver use its own timeout for the state. */
  timeoutS: number;
  client: string;
  virtual: string;
  dest: string;
}

export interface SyncMessage {
  syncId: number;
  conns: SyncConn[];
}

/** How many IPv4 entries fit one datagram on a link of this MTU (IP and UDP headers taken off). */
export function connsPerMessage(mtu: number): number {
  const room = Math.floor((mtu - 20 - 8 - SYNC_HEADER_LEN) / SYNC_V4_CONN_LEN);
  return Math.max(1, Math.min(MAX_CONNS_PER_MESSAGE, room));
}

function v4(text: string, field: string): Uint8Array {
  const b = parseIPv4(text);
  if (!b) throw new RangeError(`sync entry ${field} "${text}" is not an IPv4 address`);
  return b;
}

/** Datagrams carrying every entry, at most `perMessage` per datagram. */
export function encodeSyncMessages(syncId: number, conns: readonly SyncConn[], perMessage: number): Buffer[] {
  if (!Number.isInteger(syncId) || syncId < 0 || syncId > 255) throw new RangeError(`sync id ${syncId} is not 0..255`);
  const per = Math.max(1, Math.min(MAX_CONNS_PER_MESSAGE, Math.floor(perMessage)));
  const out: Buffer[] = [];
  for (let start = 0; start < conns.length; start += per) {
    const chunk = conns.slice(start, start + per);
    const buf = Buffer.alloc(SYNC_HEADER_LEN + chunk.length * SYNC_V4_CONN_LEN);
    buf.writeUInt8(0, 0);
    buf.writeUInt8(syncId, 1);
    buf.writeUInt16BE(buf.length, 2);
    buf.writeUInt8(chunk.length, 4);
    buf.writeInt8(1, 5);
    buf.writeUInt16BE(0, 6);
    chunk.forEach((c, i) => {
      const o = SYNC_HEADER_LEN + i * SYNC_V4_CONN_LEN;
      buf.writeUInt8(0, o);
      buf.writeUInt8(c.protocol, o + 1);
      buf.writeUInt16BE(SYNC_V4_CONN_LEN, o + 2);
      buf.writeUInt32BE(c.flags >>> 0, o + 4);
      buf.writeUInt16BE(c.state, o + 8);
      buf.writeUInt16BE(c.clientPort, o + 10);
      buf.writeUInt16BE(c.virtualPort, o + 12);
      buf.writeUInt16BE(c.destPort, o + 14);
      buf.writeUInt32BE(c.fwmark >>> 0, o + 16);
      buf.writeUInt32BE(c.timeoutS >>> 0, o + 20);
      buf.set(v4(c.client, 'client'), o + 24);
      buf.set(v4(c.virtual, 'virtual'), o + 28);
      buf.set(v4(c.dest, 'destination'), o + 32);
    });
    out.push(buf);
  }
  return out;
}

/** Reads a datagram the way the kernel's backup does; throws naming the field that is wrong. */
export function decodeSyncMessage(buf: Buffer): SyncMessage {
  if (buf.length < SYNC_HEADER_LEN) throw new RangeError(`sync message: ${buf.length} bytes, shorter than the ${SYNC_HEADER_LEN}-byte header`);
  if (buf.readUInt16BE(2) !== buf.length) throw new RangeError(`sync message: size field ${buf.readUInt16BE(2)} != datagram length ${buf.length}`);
  if (buf.readUInt8(0) !== 0 || buf.readInt8(5) !== 1 || buf.readUInt16BE(6) !== 0) throw new RangeError('sync message: not version 1 (reserved byte, version or spare field)');
  const count = buf.readUInt8(4);
  const conns: SyncConn[] = [];
  let o = SYNC_HEADER_LEN;
  for (let i = 0; i < count; i++) {
    if (o + SYNC_V4_CONN_LEN > buf.length) throw new RangeError(`sync message: entry ${i} runs past the end`);
    if (buf.readUInt8(o) !== 0) throw new RangeError(`sync message: entry ${i} type ${buf.readUInt8(o)} is not IPv4`);
    const verSize = buf.readUInt16BE(o + 2);
    const size = verSize & 0x0fff;
    if (verSize >> 12 !== 0 || size < SYNC_V4_CONN_LEN) throw new RangeError(`sync message: entry ${i} version/size field 0x${verSize.toString(16)}`);
    conns.push({
      protocol: buf.readUInt8(o + 1),
      flags: buf.readUInt32BE(o + 4),
      state: buf.readUInt16BE(o + 8),
      clientPort: buf.readUInt16BE(o + 10),
      virtualPort: buf.readUInt16BE(o + 12),
      destPort: buf.readUInt16BE(o + 14),
      fwmark: buf.readUInt32BE(o + 16),
      timeoutS: buf.readUInt32BE(o + 20),
      client: formatIPv4(buf, o + 24),
      virtual: formatIPv4(buf, o + 28),
      dest: formatIPv4(buf, o + 32),
    });
    o += (size + 3) & ~3;
  }
  return { syncId: buf.readUInt8(1), conns };
}

export interface HandoverEntries {
  conns: SyncConn[];
  /** Connections left out, by why: finished (TIME_WAIT, CLOSE), no-service (fwmark or removed service), unknown-state. */
  skipped: Record<string, number>;
}

/**
 * The sync entries for a connection table. Each carries the forwarding method of its real server as this
 * director's kernel lists it (the receiver takes it from its own table too when it has the same service); a
 * connection whose service is not a TCP/UDP service here (fwmark, or just removed) is left to the kernel's sync.
 * Timeout 0: the receiver applies its own timeout for the state. Finished TCP connections are left out.
 */
export function handoverEntries(conns: readonly ProcConn[], services: ReadonlyMap<string, ProcService>): HandoverEntries {
  const out: SyncConn[] = [];
  const skipped: Record<string, number> = {};
  const skip = (why: string): void => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  for (const c of conns) {
    if (isFinishedTcp(c)) {
      skip('finished');
      continue;
    }
    const svc = services.get(serviceKey(c.protocol, c.virtual, c.virtualPort));
    if (!svc) {
      skip('no-service');
      continue;
    }
    const state = c.protocol === 'UDP' ? 0 : TCP_STATES[c.state];
    if (state === undefined) {
      skip('unknown-state');
      continue;
    }
    const method = svc.dests.get(`${c.dest}:${c.destPort}`);
    const fwd = method !== undefined && method in CONN_FWD ? CONN_FWD[method as keyof typeof CONN_FWD] : CONN_FWD.Masq;
    out.push({
      protocol: PROTOCOLS[c.protocol],
      flags: fwd,
      state,
      clientPort: c.clientPort,
      virtualPort: c.virtualPort,
      destPort: c.destPort,
      fwmark: 0,
      timeoutS: 0,
      client: c.client,
      virtual: c.virtual,
      dest: c.dest,
    });
  }
  return { conns: out, skipped };
}
