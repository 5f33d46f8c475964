/**
 * IPVS attribute payloads, pure: model objects <-> the nested attributes of the IPVS genl family.
 * Attribute order follows libipvs (ipvsadm) so that our messages can be compared byte for byte with the
 * ones ipvsadm sends (test/fixtures/ipvs-netlink); the kernel itself does not care about order.
 */
import type { DestKey, DestSpec, DestState, Family, Forwarding, Protocol, SchedulerFlag, ServiceKey, ServiceSpec, ServiceState, Stats, TunnelChecksum, TunnelType } from '../model.js';
import type { IpvsInfo } from '../backend.js';
import { addressToBytes, bytesToAddress, netmaskToPrefix, prefixToNetmask } from './address.js';
import {
  AF_INET,
  AF_INET6,
  CmdAttr,
  DaemonAttr,
  DaemonState,
  DestAttr,
  FWD_MASK,
  FwdMethod,
  InfoAttr,
  IpProto,
  StatsAttr,
  SvcAttr,
  SvcFlag,
  TunType,
} from './constants.js';
import { NlaError, NlaSet, nla, nlaBe16, nlaBe32, nlaNest, nlaString, nlaU16, nlaU32, nlaU8 } from './nla.js';

const PROTO_NUM: Record<Protocol, number> = { tcp: IpProto.TCP, udp: IpProto.UDP, sctp: IpProto.SCTP };
const FWD_NUM: Record<Forwarding, number> = { masq: FwdMethod.MASQ, local: FwdMethod.LOCALNODE, tunnel: FwdMethod.TUNNEL, route: FwdMethod.DROUTE };
const TUN_NUM: Record<TunnelType, number> = { ipip: TunType.IPIP, gue: TunType.GUE, gre: TunType.GRE };
/** IP_VS_TUNNEL_ENCAP_FLAG_*: nocsum is the absence of both bits. */
const TUN_CSUM_FLAGS: Record<TunnelChecksum, number> = { nocsum: 0, csum: 0x1, remcsum: 0x2 };
/** sh and mh name the same kernel bits differently (include/uapi/linux/ip_vs.h, ip_vs_mh.c). */
const SCHED_FLAG_BIT: Record<SchedulerFlag, number> = {
  'sh-fallback': SvcFlag.SCHED1,
  'sh-port': SvcFlag.SCHED2,
  'mh-fallback': SvcFlag.SCHED1,
  'mh-port': SvcFlag.SCHED2,
};
const ALL_BITS = 0xffffffff;

export const afOf = (family: Family): number => (family === 6 ? AF_INET6 : AF_INET);

function familyOf(af: number, where: string): Family {
  if (af === AF_INET) return 4;
  if (af === AF_INET6) return 6;
  throw new NlaError(`${where}: address family ${af} is neither AF_INET nor AF_INET6`);
}

function invert<K extends string>(rec: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(rec).map(([k, v]) => [v as number, k as K]));
}
const PROTO_NAME = invert(PROTO_NUM);
const FWD_NAME = invert(FWD_NUM);
const TUN_NAME = invert(TUN_NUM);

// ---------------------------------------------------------------------------------------------- encoding

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new NlaError(`${what}: port ${port} is outside 0..65535`);
  return port;
}

function u32Field(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new NlaError(`${what} ${v} is not a u32`);
  return v;
}

/** The attributes that identify a service: AF then FWMARK, or PROTOCOL, ADDR, PORT. */
export function serviceKeyAttrs(key: ServiceKey): Buffer[] {
  const af = nlaU16(SvcAttr.AF, afOf(key.family));
  if (key.kind === 'fwmark') return [af, nlaU32(SvcAttr.FWMARK, u32Field(key.fwmark, 'fwmark'))];
  return [
    af,
    nlaU16(SvcAttr.PROTOCOL, PROTO_NUM[key.protocol]),
    nla(SvcAttr.ADDR, addressToBytes(key.family, key.address)),
    nlaBe16(SvcAttr.PORT, checkPort(key.port, 'service')),
  ];
}

/** Full-mask netmask: /32 for IPv4 (as a network-order u32), prefix length 128 for IPv6. */
function netmaskAttr(family: Family, prefix: number | undefined): Buffer {
  if (family === 6) {
    const p = prefix ?? 128;
    if (!Number.isInteger(p) || p < 0 || p > 128) throw new NlaError(`IPv6 persistence prefix ${p} is outside 0..128`);
    return nlaU32(SvcAttr.NETMASK, p);
  }
  return nlaBe32(SvcAttr.NETMASK, prefixToNetmask(prefix ?? 32));
}

export function serviceFlags(spec: Pick<ServiceSpec, 'persistence' | 'onePacket' | 'schedulerFlags'>): number {
  let flags = 0;
  if (spec.persistence) flags |= SvcFlag.PERSISTENT;
  if (spec.onePacket) flags |= SvcFlag.ONEPACKET;
  for (const f of spec.schedulerFlags) flags |= SCHED_FLAG_BIT[f];
  return flags;
}

function flagsAttr(flags: number): Buffer {
  // struct ip_vs_flags { flags, mask }: a full mask makes SET_SERVICE replace every flag, not merge.
  const b = Buffer.alloc(8);
  b.writeUInt32LE(flags >>> 0, 0);
  b.writeUInt32LE(ALL_BITS, 4);
  return nla(SvcAttr.FLAGS, b);
}

/** IPVS_CMD_ATTR_SERVICE with every field, for NEW_SERVICE / SET_SERVICE. */
export function serviceAttr(spec: ServiceSpec): Buffer {
  if (spec.scheduler.length === 0 || spec.scheduler.length > 15) throw new NlaError(`scheduler name "${spec.scheduler}" must be 1..15 bytes`);
  return nlaNest(CmdAttr.SERVICE, [
    ...serviceKeyAttrs(spec.key),
    nlaString(SvcAttr.SCHED_NAME, spec.scheduler),
    flagsAttr(serviceFlags(spec)),
    nlaU32(SvcAttr.TIMEOUT, u32Field(spec.persistence?.timeout ?? 0, 'persistence timeout')),
    netmaskAttr(spec.key.family, spec.persistence?.netmaskPrefix),
  ]);
}

/**
 * IPVS_CMD_ATTR_SERVICE naming an existing service (destination commands, DEL_SERVICE, ZERO). The kernel
 * reads only the key there; the neutral remaining fields are the ones libipvs sends, which keeps our bytes
 * comparable with ipvsadm's.
 */
export function serviceRefAttr(key: ServiceKey): Buffer {
  return nlaNest(CmdAttr.SERVICE, [...serviceKeyAttrs(key), nlaString(SvcAttr.SCHED_NAME, ''), flagsAttr(0), nlaU32(SvcAttr.TIMEOUT, 0), netmaskAttr(key.family, undefined)]);
}

/** IPVS_CMD_ATTR_SERVICE with only the key: selects the service whose destinations GET_DEST dumps. */
export function serviceMatchAttr(key: ServiceKey): Buffer {
  return nlaNest(CmdAttr.SERVICE, serviceKeyAttrs(key));
}

/** IPVS_CMD_ATTR_DEST with every field, for NEW_DEST / SET_DEST. */
export function destAttr(dest: DestSpec): Buffer {
  const tunnel = dest.forwarding === 'tunnel';
  return nlaNest(CmdAttr.DEST, [
    nlaU16(DestAttr.ADDR_FAMILY, afOf(dest.family)),
    nla(DestAttr.ADDR, addressToBytes(dest.family, dest.address)),
    nlaBe16(DestAttr.PORT, checkPort(dest.port, 'destination')),
    nlaU32(DestAttr.FWD_METHOD, FWD_NUM[dest.forwarding]),
    nlaU32(DestAttr.WEIGHT, u32Field(dest.weight, 'weight')),
    nlaU8(DestAttr.TUN_TYPE, tunnel ? TUN_NUM[dest.tunnelType ?? 'ipip'] : TunType.IPIP),
    nlaBe16(DestAttr.TUN_PORT, tunnel ? checkPort(dest.tunnelPort ?? 0, 'tunnel') : 0),
    nlaU16(DestAttr.TUN_FLAGS, tunnel ? TUN_CSUM_FLAGS[dest.tunnelChecksum ?? 'nocsum'] : 0),
    nlaU32(DestAttr.U_THRESH, u32Field(dest.upperThreshold, 'upper threshold')),
    nlaU32(DestAttr.L_THRESH, u32Field(dest.lowerThreshold, 'lower threshold')),
  ]);
}

/**
 * IPVS_CMD_ATTR_DEST naming a destination to delete. The kernel reads only address and port; the rest are
 * libipvs's defaults (direct routing, weight 1) so that the bytes match ipvsadm's.
 */
export function destRefAttr(dest: DestKey): Buffer {
  return destAttr({ ...dest, forwarding: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
}

export interface DaemonConfig {
  state: 'master' | 'backup';
  /** Interface the sync traffic uses, e.g. "eth0". */
  mcastIfn: string;
  syncId: number;
  syncMaxLen?: number;
  mcastGroup?: { family: Family; address: string };
  mcastPort?: number;
  mcastTtl?: number;
}

const STATE_NUM = { master: DaemonState.MASTER, backup: DaemonState.BACKUP } as const;

/** IPVS_CMD_ATTR_DAEMON for NEW_DAEMON. */
export function daemonAttr(d: DaemonConfig): Buffer {
  if (d.mcastIfn.length === 0 || d.mcastIfn.length > 15) throw new NlaError(`sync daemon interface name "${d.mcastIfn}" must be 1..15 bytes`);
  const attrs = [nlaU32(DaemonAttr.STATE, STATE_NUM[d.state]), nlaString(DaemonAttr.MCAST_IFN, d.mcastIfn), nlaU32(DaemonAttr.SYNC_ID, u32Field(d.syncId, 'sync id'))];
  if (d.syncMaxLen !== undefined) attrs.push(nlaU16(DaemonAttr.SYNC_MAXLEN, d.syncMaxLen));
  if (d.mcastGroup?.family === 4) attrs.push(nla(DaemonAttr.MCAST_GROUP, addressToBytes(4, d.mcastGroup.address).subarray(0, 4)));
  if (d.mcastGroup?.family === 6) attrs.push(nla(DaemonAttr.MCAST_GROUP6, addressToBytes(6, d.mcastGroup.address)));
  if (d.mcastPort !== undefined) attrs.push(nlaU16(DaemonAttr.MCAST_PORT, checkPort(d.mcastPort, 'sync multicast')));
  if (d.mcastTtl !== undefined) attrs.push(nlaU8(DaemonAttr.MCAST_TTL, d.mcastTtl));
  return nlaNest(CmdAttr.DAEMON, attrs);
}

/** IPVS_CMD_ATTR_DAEMON for DEL_DAEMON: the kernel needs only the state; libipvs adds an empty name and id 0. */
export function daemonRefAttr(state: DaemonConfig['state']): Buffer {
  return nlaNest(CmdAttr.DAEMON, [nlaU32(DaemonAttr.STATE, STATE_NUM[state]), nlaString(DaemonAttr.MCAST_IFN, ''), nlaU32(DaemonAttr.SYNC_ID, 0)]);
}

// ---------------------------------------------------------------------------------------------- decoding

const STATS_FIELDS: [keyof Stats, number][] = [
  ['conns', StatsAttr.CONNS],
  ['inPackets', StatsAttr.INPKTS],
  ['outPackets', StatsAttr.OUTPKTS],
  ['inBytes', StatsAttr.INBYTES],
  ['outBytes', StatsAttr.OUTBYTES],
  ['cps', StatsAttr.CPS],
  ['inPps', StatsAttr.INPPS],
  ['outPps', StatsAttr.OUTPPS],
  ['inBps', StatsAttr.INBPS],
  ['outBps', StatsAttr.OUTBPS],
];

/**
 * STATS64 (every counter u64) when present, else STATS (u32 counters, u64 byte counts). Counters are
 * returned as numbers: exact up to 2^53, which byte counters reach only after petabytes.
 */
export function decodeStats(parent: NlaSet, statsAttr: number, stats64Attr: number): Stats | undefined {
  const s64 = parent.nested(stats64Attr, 'STATS64', StatsAttr);
  const s = s64 ?? parent.nested(statsAttr, 'STATS', StatsAttr);
  if (!s) return undefined;
  const out = {} as Stats;
  for (const [field, type] of STATS_FIELDS) {
    const wide = s64 !== undefined || type === StatsAttr.INBYTES || type === StatsAttr.OUTBYTES;
    out[field] = wide ? Number(s.u64(type) ?? 0n) : (s.u32(type) ?? 0);
  }
  return out;
}

export function decodeServiceKey(s: NlaSet): ServiceKey {
  const family = familyOf(s.req(SvcAttr.AF, s.u16(SvcAttr.AF)), s.where);
  const fwmark = s.u32(SvcAttr.FWMARK);
  if (fwmark !== undefined && fwmark !== 0) return { kind: 'fwmark', family, fwmark };
  const protoNum = s.req(SvcAttr.PROTOCOL, s.u16(SvcAttr.PROTOCOL));
  const protocol = PROTO_NAME.get(protoNum);
  if (!protocol) throw new NlaError(`${s.where}: PROTOCOL ${protoNum} is not tcp, udp or sctp`);
  const address = bytesToAddress(family, s.req(SvcAttr.ADDR, s.raw(SvcAttr.ADDR)));
  return { kind: 'addr', family, protocol, address, port: s.req(SvcAttr.PORT, s.be16(SvcAttr.PORT)) };
}

/** One service from a GET_SERVICE dump (its `dests` left empty: they come from GET_DEST). */
export function decodeService(attrs: NlaSet): ServiceState {
  const s = attrs.nested(CmdAttr.SERVICE, 'SERVICE', SvcAttr);
  if (!s) throw new NlaError(`${attrs.where}: SERVICE attribute missing`);
  const key = decodeServiceKey(s);
  const scheduler = s.req(SvcAttr.SCHED_NAME, s.string(SvcAttr.SCHED_NAME));
  const flagsRaw = s.req(SvcAttr.FLAGS, s.raw(SvcAttr.FLAGS));
  if (flagsRaw.length < 4) throw new NlaError(`${s.where}: FLAGS has ${flagsRaw.length} bytes, expected 8`);
  const flags = flagsRaw.readUInt32LE(0);
  const schedulerFlags: SchedulerFlag[] = [];
  const prefix = scheduler === 'sh' ? 'sh' : scheduler === 'mh' ? 'mh' : undefined;
  // Other schedulers take no flags; bits they may carry have no name in the model and are left out.
  if (prefix && flags & SvcFlag.SCHED1) schedulerFlags.push(`${prefix}-fallback`);
  if (prefix && flags & SvcFlag.SCHED2) schedulerFlags.push(`${prefix}-port`);
  const state: ServiceState = { key, scheduler, schedulerFlags, onePacket: (flags & SvcFlag.ONEPACKET) !== 0, dests: [] };
  if (flags & SvcFlag.PERSISTENT) {
    const timeout = s.req(SvcAttr.TIMEOUT, s.u32(SvcAttr.TIMEOUT));
    const netmaskPrefix = key.family === 6 ? s.req(SvcAttr.NETMASK, s.u32(SvcAttr.NETMASK)) : netmaskToPrefix(s.req(SvcAttr.NETMASK, s.be32(SvcAttr.NETMASK)));
    state.persistence = { timeout, netmaskPrefix };
  }
  const stats = decodeStats(s, SvcAttr.STATS, SvcAttr.STATS64);
  if (stats) state.stats = stats;
  return state;
}

/** One destination from a GET_DEST dump; `serviceFamily` is used when the kernel omits ADDR_FAMILY (before 4.x). */
/** `stats: false` skips the counters (a reconcile pass reads 10,000s of destinations and never looks at them). */
export function decodeDest(attrs: NlaSet, serviceFamily: Family, opts: { stats?: boolean } = {}): DestState {
  const d = attrs.nested(CmdAttr.DEST, 'DEST', DestAttr);
  if (!d) throw new NlaError(`${attrs.where}: DEST attribute missing`);
  const afNum = d.u16(DestAttr.ADDR_FAMILY);
  const family = afNum === undefined ? serviceFamily : familyOf(afNum, d.where);
  const fwdNum = d.req(DestAttr.FWD_METHOD, d.u32(DestAttr.FWD_METHOD)) & FWD_MASK;
  const forwarding = FWD_NAME.get(fwdNum);
  if (!forwarding) throw new NlaError(`${d.where}: FWD_METHOD ${fwdNum} is not masq, local, tunnel or route`);
  const dest: DestState = {
    family,
    address: bytesToAddress(family, d.req(DestAttr.ADDR, d.raw(DestAttr.ADDR))),
    port: d.req(DestAttr.PORT, d.be16(DestAttr.PORT)),
    forwarding,
    weight: d.req(DestAttr.WEIGHT, d.u32(DestAttr.WEIGHT)),
    upperThreshold: d.u32(DestAttr.U_THRESH) ?? 0,
    lowerThreshold: d.u32(DestAttr.L_THRESH) ?? 0,
    activeConns: d.u32(DestAttr.ACTIVE_CONNS) ?? 0,
    inactiveConns: d.u32(DestAttr.INACT_CONNS) ?? 0,
    persistConns: d.u32(DestAttr.PERSIST_CONNS) ?? 0,
  };
  if (forwarding === 'tunnel') {
    // Same shape as the reconciler's normalised specs (spec-diff.ts normalizeDest): a tunnel always has a
    // type, gue a port, gue/gre a checksum mode. The kernel reports zeros for the fields that do not apply.
    const tunNum = d.u8(DestAttr.TUN_TYPE) ?? TunType.IPIP;
    const tunnelType = TUN_NAME.get(tunNum);
    if (!tunnelType) throw new NlaError(`${d.where}: TUN_TYPE ${tunNum} is not ipip, gue or gre`);
    dest.tunnelType = tunnelType;
    if (tunnelType === 'gue') dest.tunnelPort = d.be16(DestAttr.TUN_PORT) ?? 0;
    if (tunnelType !== 'ipip') {
      const f = d.u16(DestAttr.TUN_FLAGS) ?? 0;
      dest.tunnelChecksum = f & TUN_CSUM_FLAGS.remcsum ? 'remcsum' : f & TUN_CSUM_FLAGS.csum ? 'csum' : 'nocsum';
    }
  }
  if (opts.stats === false) return dest;
  const stats = decodeStats(d, DestAttr.STATS, DestAttr.STATS64);
  if (stats) dest.stats = stats;
  return dest;
}

/** GET_INFO reply: version 0x010201 -> "1.2.1". */
export function decodeInfo(attrs: NlaSet): IpvsInfo {
  const v = attrs.req(InfoAttr.VERSION, attrs.u32(InfoAttr.VERSION));
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTableSize: attrs.req(InfoAttr.CONN_TAB_SIZE, attrs.u32(InfoAttr.CONN_TAB_SIZE)) };
}

/** One sync daemon from a GET_DAEMON dump. */
export function decodeDaemon(attrs: NlaSet): DaemonConfig {
  const d = attrs.nested(CmdAttr.DAEMON, 'DAEMON', DaemonAttr);
  if (!d) throw new NlaError(`${attrs.where}: DAEMON attribute missing`);
  const stateNum = d.req(DaemonAttr.STATE, d.u32(DaemonAttr.STATE));
  const state = stateNum === DaemonState.MASTER ? 'master' : stateNum === DaemonState.BACKUP ? 'backup' : undefined;
  if (!state) throw new NlaError(`${d.where}: STATE ${stateNum} is neither master nor backup`);
  const out: DaemonConfig = { state, mcastIfn: d.req(DaemonAttr.MCAST_IFN, d.string(DaemonAttr.MCAST_IFN)), syncId: d.req(DaemonAttr.SYNC_ID, d.u32(DaemonAttr.SYNC_ID)) };
  const maxLen = d.u16(DaemonAttr.SYNC_MAXLEN);
  if (maxLen !== undefined) out.syncMaxLen = maxLen;
  const g4 = d.raw(DaemonAttr.MCAST_GROUP);
  const g6 = d.raw(DaemonAttr.MCAST_GROUP6);
  if (g6 !== undefined) out.mcastGroup = { family: 6, address: bytesToAddress(6, g6) };
  else if (g4 !== undefined) out.mcastGroup = { family: 4, address: bytesToAddress(4, g4) };
  const port = d.u16(DaemonAttr.MCAST_PORT);
  if (port !== undefined) out.mcastPort = port;
  const ttl = d.u8(DaemonAttr.MCAST_TTL);
  if (ttl !== undefined) out.mcastTtl = ttl;
  return out;
}
