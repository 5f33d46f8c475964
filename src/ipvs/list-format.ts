import { isIPv4 } from 'node:net';
import { hostPrefix, ipv4MaskToPrefix, splitEndpoint } from './addr.js';
import { SaveFormatError } from './save-format.js';
import type {
  DestKey,
  DestState,
  Forwarding,
  Persistence,
  SchedulerFlag,
  ServiceKey,
  ServiceState,
  Stats,
  TunnelChecksum,
  TunnelType,
} from './model.js';

/**
 * Parsers for `ipvsadm -L -n --exact` in its column variants (plain, --tun-info, --thresholds,
 * --persistent-conn, --stats, --rate), as ipvsadm v1.31 prints them, and a merge of several listings into
 * one ServiceState[] table. Always ask ipvsadm for --exact: without it counters are abbreviated (12K).
 */

export type ListVariant = 'plain' | 'tun-info' | 'thresholds' | 'persistent-conn' | 'stats' | 'rate';

export interface ListedDest extends DestKey {
  forwarding?: Forwarding;
  tunnel?: { type: TunnelType; port?: number; checksum?: TunnelChecksum };
  weight?: number;
  activeConns?: number;
  inactiveConns?: number;
  persistConns?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  counters?: number[]; // the five numbers of --stats or --rate
}

export interface ListedService {
  key: ServiceKey;
  scheduler?: string;
  schedulerFlags?: SchedulerFlag[];
  persistence?: Persistence;
  onePacket?: boolean;
  counters?: number[];
  dests: ListedDest[];
}

export interface Listing {
  variant: ListVariant;
  version?: string;
  connTableSize?: number;
  services: ListedService[];
}

const FORWARD_WORDS: Record<string, Forwarding> = { Masq: 'masq', Route: 'route', Tunnel: 'tunnel', Local: 'local' };
const PROTOCOLS: Record<string, 'tcp' | 'udp' | 'sctp'> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

class ListError extends Error {}
function fail(message: string): never {
  throw new ListError(message);
}

function count(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) fail(`${what}: expected an exact number, got '${text ?? ''}' (was --exact given?)`);
  return Number(text);
}

function detectVariant(header: string): ListVariant | undefined {
  if (/\bConns\s+InPkts\s+OutPkts\s+InBytes\s+OutBytes\b/.test(header)) return 'stats';
  if (/\bCPS\s+InPPS\s+OutPPS\s+InBPS\s+OutBPS\b/.test(header)) return 'rate';
  if (/\bUthreshold\s+Lthreshold\b/.test(header)) return 'thresholds';
  if (/\bPersistConn\b/.test(header)) return 'persistent-conn';
  if (/\bScheduler Flags\b/.test(header)) return 'plain';
  return undefined;
}

/** `TCP  203.0.113.1:80`, `FWM  7`, `FWM  8 IPv6`: returns the key and the index of the next token. */
function parseServiceKey(tokens: string[]): { key: ServiceKey; next: number } {
  const proto = tokens[0] ?? '';
  if (proto === 'FWM') {
    const fwmark = count(tokens[1], 'firewall mark');
    if (tokens[2] === 'IPv6') return { key: { kind: 'fwmark', family: 6, fwmark }, next: 3 };
    return { key: { kind: 'fwmark', family: 4, fwmark }, next: 2 };
  }
  const protocol = PROTOCOLS[proto];
  if (!protocol) fail(`unknown protocol '${proto}'`);
  const ep = splitEndpoint(tokens[1] ?? '');
  if (!ep || ep.port === undefined) fail(`service address '${tokens[1] ?? ''}' is not ADDR:PORT`);
  return { key: { kind: 'addr', family: ep.family, protocol, address: ep.address, port: ep.port }, next: 2 };
}

/** `wlc`, `sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0 ops`. */
function parseServiceAttributes(key: ServiceKey, tokens: string[]): Omit<ListedService, 'key' | 'dests' | 'counters'> {
  const scheduler = tokens[0];
  if (scheduler === undefined) fail('service line has no scheduler');
  const out: Omit<ListedService, 'key' | 'dests' | 'counters'> = { scheduler, schedulerFlags: [], onePacket: false };
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (t.startsWith('(') && t.endsWith(')')) {
      out.schedulerFlags = t.slice(1, -1).split(',').filter((f) => f !== '').sort() as SchedulerFlag[];
    } else if (t === 'persistent') {
      out.persistence = { timeout: count(tokens[++i], 'persistence timeout'), netmaskPrefix: hostPrefix(key.family) };
    } else if (t === 'mask') {
      const m = tokens[++i] ?? '';
      if (!out.persistence) fail('mask without persistent');
      if (key.family === 6) out.persistence.netmaskPrefix = count(m, 'IPv6 mask');
      else {
        const prefix = ipv4MaskToPrefix(m);
        if (prefix !== undefined) out.persistence.netmaskPrefix = prefix;
        else if (isIPv4(m)) {
          // Non-contiguous (the kernel accepts it): keep it, so a foreign service cannot break the dump.
          out.persistence.netmaskPrefix = -1;
          out.persistence.rawNetmask = m;
        } else fail(`mask '${m}' is not an IPv4 netmask`);
      }
    } else if (t === 'ops') out.onePacket = true;
    else if (t === 'pe') fail(`persistence engine '${tokens[i + 1] ?? ''}' is not supported`);
    else fail(`unknown service attribute '${t}'`);
  }
  return out;
}

/** `n/a`, `ipip`, `gue:6080:-c`, `gre:+c`, `gue:6082:r+c`. */
function parseTunnelInfo(text: string): ListedDest['tunnel'] {
  if (text === 'n/a') return undefined;
  const parts = text.split(':');
  const type = parts[0];
  const csum = (s: string | undefined): TunnelChecksum => {
    if (s === '-c') return 'nocsum';
    if (s === '+c') return 'csum';
    if (s === 'r+c') return 'remcsum';
    return fail(`unknown tunnel checksum '${s ?? ''}'`);
  };
  if (type === 'ipip' && parts.length === 1) return { type: 'ipip' };
  if (type === 'gre' && parts.length === 2) return { type: 'gre', checksum: csum(parts[1]) };
  if (type === 'gue' && parts.length === 3) return { type: 'gue', port: count(parts[1], 'tunnel port'), checksum: csum(parts[2]) };
  return fail(`unknown tunnel info '${text}'`);
}

function parseDest(variant: ListVariant, tokens: string[], hasTunnelColumn: boolean): ListedDest {
  const ep = splitEndpoint(tokens[1] ?? '');
  if (!ep || ep.port === undefined) fail(`real server '${tokens[1] ?? ''}' is not ADDR:PORT`);
  const d: ListedDest = { family: ep.family, address: ep.address, port: ep.port };
  const cols = tokens.slice(2);
  switch (variant) {
    case 'plain':
    case 'tun-info': {
      const fwd = FORWARD_WORDS[cols[0] ?? ''];
      if (!fwd) fail(`unknown forwarding method '${cols[0] ?? ''}'`);
      d.forwarding = fwd;
      let i = 1;
      if (hasTunnelColumn) {
        const tunnel = parseTunnelInfo(cols[i++] ?? '');
        if (tunnel) d.tunnel = tunnel;
      }
      d.weight = count(cols[i++], 'weight');
      d.activeConns = count(cols[i++], 'active connections');
      d.inactiveConns = count(cols[i++], 'inactive connections');
      break;
    }
    case 'thresholds':
      d.upperThreshold = count(cols[0], 'upper threshold');
      d.lowerThreshold = count(cols[1], 'lower threshold');
      d.activeConns = count(cols[2], 'active connections');
      d.inactiveConns = count(cols[3], 'inactive connections');
      break;
    case 'persistent-conn':
      d.weight = count(cols[0], 'weight');
      d.persistConns = count(cols[1], 'persistent connections');
      d.activeConns = count(cols[2], 'active connections');
      d.inactiveConns = count(cols[3], 'inactive connections');
      break;
    case 'stats':
    case 'rate':
      d.counters = [0, 1, 2, 3, 4].map((i) => count(cols[i], `${variant} column ${i + 1}`));
      break;
  }
  return d;
}

/** Parse one `ipvsadm -Ln --exact [...]` output. Throws SaveFormatError naming the line. */
export function parseListing(text: string): Listing {
  const lines = text.split('\n');
  let variant: ListVariant | undefined;
  let hasTunnelColumn = false;
  const listing: Listing = { variant: 'plain', services: [] };
  let current: ListedService | undefined;
  const errors: string[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    try {
      const version = /^IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(line);
      if (version) {
        listing.version = version[1] ?? '';
        listing.connTableSize = Number(version[2]);
        return;
      }
      if (line.startsWith('Prot LocalAddress:Port')) {
        variant = detectVariant(line);
        if (!variant) fail(`unknown listing header '${line}'`);
        listing.variant = variant;
        return;
      }
      const tokens = line.trim().split(/\s+/);
      if (tokens[0] === '->') {
        if (tokens[1] === 'RemoteAddress:Port') {
          hasTunnelColumn = tokens.includes('TunnelInfo');
          if (hasTunnelColumn && listing.variant === 'plain') listing.variant = 'tun-info';
          return;
        }
        if (!current) fail('real server before any service');
        if (!variant) fail('real server before the header line');
        current.dests.push(parseDest(variant, tokens, hasTunnelColumn));
        return;
      }
      if (!variant) fail(`service before the header line`);
      const { key, next } = parseServiceKey(tokens);
      current = { key, dests: [] };
      const rest = tokens.slice(next);
      if (variant === 'stats' || variant === 'rate') current.counters = [0, 1, 2, 3, 4].map((i) => count(rest[i], `${variant} column ${i + 1}`));
      else Object.assign(current, parseServiceAttributes(key, rest));
      listing.services.push(current);
    } catch (err) {
      if (!(err instanceof ListError)) throw err;
      errors.push(`line ${index + 1}: ${err.message}`);
    }
  });
  if (errors.length > 0) throw new SaveFormatError(errors);
  return listing;
}

function serviceMapKey(key: ServiceKey): string {
  return key.kind === 'fwmark' ? `fwmark/${key.family}/${key.fwmark}` : `${key.protocol}/${key.address}/${key.port}`;
}
function destMapKey(d: DestKey): string {
  return `${d.family}/${d.address}/${d.port}`;
}

function statsFrom(counters: number[] | undefined, rates: number[] | undefined): Stats | undefined {
  if (!counters && !rates) return undefined;
  const c = counters ?? [0, 0, 0, 0, 0];
  const r = rates ?? [0, 0, 0, 0, 0];
  return {
    conns: c[0] ?? 0, inPackets: c[1] ?? 0, outPackets: c[2] ?? 0, inBytes: c[3] ?? 0, outBytes: c[4] ?? 0,
    cps: r[0] ?? 0, inPps: r[1] ?? 0, outPps: r[2] ?? 0, inBps: r[3] ?? 0, outBps: r[4] ?? 0,
  };
}

export interface ListingSet {
  /** `-Ln --exact` or, better, `-Ln --tun-info --exact` (the only one carrying tunnel type/port/checksum). */
  main: Listing;
  thresholds?: Listing;
  persistentConn?: Listing;
  stats?: Listing;
  rate?: Listing;
}

/**
 * One table from several listings taken one after the other. The main listing decides which services and
 * destinations exist; the others only add columns (an object that came or went in between gets zeros).
 */
export function mergeListings(set: ListingSet): ServiceState[] {
  const index = (l: Listing | undefined): Map<string, ListedService> => new Map((l?.services ?? []).map((s) => [serviceMapKey(s.key), s]));
  const thr = index(set.thresholds);
  const per = index(set.persistentConn);
  const sta = index(set.stats);
  const rat = index(set.rate);
  const withStats = set.stats !== undefined || set.rate !== undefined;
  return set.main.services.map((s) => {
    const id = serviceMapKey(s.key);
    const find = (m: Map<string, ListedService>, d: DestKey): ListedDest | undefined =>
      m.get(id)?.dests.find((x) => destMapKey(x) === destMapKey(d));
    const state: ServiceState = {
      key: s.key,
      scheduler: s.scheduler ?? '',
      schedulerFlags: s.schedulerFlags ?? [],
      onePacket: s.onePacket ?? false,
      dests: s.dests.map((d) => {
        const t = find(thr, d);
        const p = find(per, d);
        const dest: DestState = {
          family: d.family,
          address: d.address,
          port: d.port,
          forwarding: d.forwarding ?? 'route',
          weight: d.weight ?? 0,
          upperThreshold: t?.upperThreshold ?? 0,
          lowerThreshold: t?.lowerThreshold ?? 0,
          activeConns: d.activeConns ?? 0,
          inactiveConns: d.inactiveConns ?? 0,
          persistConns: p?.persistConns ?? 0,
        };
        if (dest.forwarding === 'tunnel') {
          dest.tunnelType = d.tunnel?.type ?? 'ipip';
          if (d.tunnel?.port !== undefined) dest.tunnelPort = d.tunnel.port;
          if (d.tunnel?.checksum !== undefined && dest.tunnelType !== 'ipip') dest.tunnelChecksum = d.tunnel.checksum;
        }
        if (withStats) {
          const stats = statsFrom(find(sta, d)?.counters ?? [0, 0, 0, 0, 0], find(rat, d)?.counters ?? [0, 0, 0, 0, 0]);
          if (stats) dest.stats = stats;
        }
        return dest;
      }),
    };
    if (s.persistence) state.persistence = s.persistence;
    if (withStats) {
      const stats = statsFrom(sta.get(id)?.counters ?? [0, 0, 0, 0, 0], rat.get(id)?.counters ?? [0, 0, 0, 0, 0]);
      if (stats) state.stats = stats;
    }
    return state;
  });
}
