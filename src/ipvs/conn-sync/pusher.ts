// Sends this director's IPVS connection table to the other directors' backup sync daemons, in the kernel's own
// sync format (sync-message.ts), from user space. The thin adapter: read /proc, multicast the datagrams on the
// sync interface with TTL 1. Bounded: at most `maxConns` connections and `maxBytes` of /proc per push, datagrams
// sent in bursts with a pause between them (the receiving socket's buffer holds about a hundred).
import { createSocket, type Socket } from 'node:dgram';
import { open, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { ConnCollector, parseProcServices } from './proc-tables.js';
import { connsPerMessage, encodeSyncMessages, handoverEntries, SYNC_GROUP, SYNC_PORT } from './sync-message.js';

export interface ConnPushSettings {
  /** Interface the sync multicast uses (lvs_sync.interface). */
  interface: string;
  syncId: number;
}

export interface ConnPushReport {
  conns: number;
  datagrams: number;
  /** Connections not sent, by why (see parseProcConns and handoverEntries). */
  skipped: Record<string, number>;
  ms: number;
}

export interface ConnPusher {
  push(settings: ConnPushSettings): Promise<ConnPushReport>;
  close(): Promise<void>;
}

export interface ProcConnPusherOptions {
  /** Live connections per push; default 100,000. */
  maxConns?: number;
  /** Bytes of /proc/net/ip_vs_conn read per push (about 160 a row); default 64 MiB. */
  maxScanBytes?: number;
  /** Datagrams per burst, and the pause after each burst. */
  burst?: number;
  burstPauseMs?: number;
  /** Where the tables are read (tests point these at files). */
  connPath?: string;
  servicePath?: string;
  mtu?: (ifname: string) => Promise<number>;
  /** The IPv4 address the datagrams leave from (the kernel's daemon uses the interface's first address too). */
  sourceAddress?: (ifname: string) => string | undefined;
  /** Destination; the kernel's default group and port. */
  group?: string;
  port?: number;
}

const CHUNK = 256 * 1024;

/**
 * Reads a /proc file a chunk at a time (procfs reports size 0, so until EOF) and hands each complete line to
 * `onLine`, until EOF, `maxBytes`, or `enough()` after a chunk. 'cut' when the file had more than was read: a
 * line cut by the bound is dropped rather than misread.
 */
async function readProcLines(path: string, maxBytes: number, onLine: (line: string) => void, enough = (): boolean => false): Promise<'eof' | 'cut'> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(CHUNK);
    let rest = '';
    let total = 0;
    while (total < maxBytes) {
      const { bytesRead } = await fh.read(b, 0, Math.min(CHUNK, maxBytes - total), null);
      if (bytesRead === 0) {
        if (rest !== '') onLine(rest);
        return 'eof';
      }
      total += bytesRead;
      const lines = (rest + b.toString('latin1', 0, bytesRead)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      if (enough()) break;
    }
    return rest !== '' || (await fh.read(b, 0, 1, null)).bytesRead > 0 ? 'cut' : 'eof';
  } finally {
    await fh.close();
  }
}

/**
 * /proc/net/ip_vs_conn into `into` until it is full (rows after that in the same chunk count as over-limit); the
 * rest of the table, if any, is counted as unread.
 */
async function collectConns(path: string, into: ConnCollector, maxBytes: number): Promise<void> {
  const end = await readProcLines(path, maxBytes, (line) => into.add(line), () => into.full);
  if (end === 'cut') into.unread();
}

async function readProcText(path: string, maxBytes: number): Promise<string> {
  const lines: string[] = [];
  await readProcLines(path, maxBytes, (line) => lines.push(line));
  return lines.join('\n');
}

async function sysMtu(ifname: string): Promise<number> {
  const n = Number((await readFile(`/sys/class/net/${ifname}/mtu`, 'utf8')).trim());
  return Number.isInteger(n) && n >= 68 ? n : 1500;
}

function firstIPv4(ifname: string): string | undefined {
  return networkInterfaces()[ifname]?.find((a) => a.family === 'IPv4')?.address;
}

export function createProcConnPusher(opts: ProcConnPusherOptions = {}): ConnPusher {
  const maxConns = opts.maxConns ?? 100_000;
  const burst = opts.burst ?? 32;
  const pauseMs = opts.burstPauseMs ?? 2;
  let socket: { sock: Socket; ifname: string; source: string } | undefined;

  const bound = async (ifname: string): Promise<Socket> => {
    const source = (opts.sourceAddress ?? firstIPv4)(ifname);
    if (source === undefined) throw new Error(`connection push: interface ${ifname} has no IPv4 address to send from`);
    if (socket && socket.ifname === ifname && socket.source === source) return socket.sock;
    socket?.sock.close();
    socket = undefined;
    const sock = createSocket({ type: 'udp4' });
    sock.on('error', () => undefined); // send errors reach the send callbacks
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: source, port: 0, exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.setMulticastInterface(source);
    sock.setMulticastTTL(1);
    sock.setMulticastLoopback(false);
    sock.unref();
    socket = { sock, ifname, source };
    return sock;
  };

  const send = (sock: Socket, buf: Buffer): Promise<void> =>
    new Promise((resolve, reject) => sock.send(buf, opts.port ?? SYNC_PORT, opts.group ?? SYNC_GROUP, (err) => (err ? reject(err) : resolve())));

  return {
    async push(settings) {
      const t0 = performance.now();
      const collector = new ConnCollector({ limit: maxConns, skipFinished: true });
      const [servicesText, , mtu] = await Promise.all([
        readProcText(opts.servicePath ?? '/proc/net/ip_vs', 16 * 1024 * 1024),
        collectConns(opts.connPath ?? '/proc/net/ip_vs_conn', collector, opts.maxScanBytes ?? 64 * 1024 * 1024),
        (opts.mtu ?? sysMtu)(settings.interface),
      ]);
      const table = collector.table();
      const entries = handoverEntries(table.conns, parseProcServices(servicesText));
      const datagrams = encodeSyncMessages(settings.syncId, entries.conns, connsPerMessage(mtu));
      if (datagrams.length > 0) {
        const sock = await bound(settings.interface);
        // A burst is handed to the socket at once (one wait per burst, not per datagram: each wait is a turn of
        // the event loop, which in a loaded guest costs milliseconds).
        for (let start = 0; start < datagrams.length; start += burst) {
          if (start > 0) await new Promise((r) => setTimeout(r, pauseMs));
          await Promise.all(datagrams.slice(start, start + burst).map((d) => send(sock, d)));
        }
      }
      return { conns: entries.conns.length, datagrams: datagrams.length, skipped: { ...table.skipped, ...entries.skipped }, ms: Math.round(performance.now() - t0) };
    },
    async close() {
      socket?.sock.close();
      socket = undefined;
    },
  };
}
