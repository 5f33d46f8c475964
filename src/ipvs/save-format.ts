import { isIPv4 } from 'node:net';
import { hostPrefix, ipv4MaskToPrefix, prefixToIpv4Mask, splitEndpoint } from './addr.js';
import type { IpvsOp } from './backend.js';
import {
  endpointText,
  type DesiredService,
  type DestSpec,
  type Family,
  type Forwarding,
  type SchedulerFlag,
  type ServiceKey,
  type ServiceSpec,
  type ServiceState,
  type TunnelChecksum,
  type TunnelType,
} from './model.js';

/**
 * ipvsadm's save/restore syntax (`ipvsadm -S -n` prints it, `ipvsadm -R` reads it), one command per line:
 *   -A -t 203.0.113.1:80 -s wlc
 *   -a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1
 * Printing follows the option order ipvsadm v1.31 itself uses, so printed state compares equal to `-Sn` output.
 * Thresholds (-x/-y) are printed when non-zero even though `-Sn` never prints them.
 */

export type SaveCommand = IpvsOp | { op: 'flush' };

const SCHEDULER_FLAGS: readonly SchedulerFlag[] = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'];
const FORWARDING_FLAG: Record<Forwarding, string> = { masq: '-m', route: '-g', tunnel: '-i', local: '-g' };
const CHECKSUM_FLAG: Record<TunnelChecksum, string> = { nocsum: '--tun-nocsum', csum: '--tun-csum', remcsum: '--tun-remcsum' };
const MAX_WEIGHT = 65535; // ipvsadm's limit for -w
const MAX_THRESHOLD = 2147483647;

// ---------------------------------------------------------------- printing

/** `-t 203.0.113.1:80`, `--sctp-service [2001:db8::1]:80`, `-f 7 -6`. */
export function serviceSelectorArgs(key: ServiceKey): string[] {
  if (key.kind === 'fwmark') return key.family === 6 ? ['-f', String(key.fwmark), '-6'] : ['-f', String(key.fwmark)];
  const flag = key.protocol === 'tcp' ? '-t' : key.protocol === 'udp' ? '-u' : '--sctp-service';
  return [flag, endpointText(key.family, key.address, key.port)];
}

/** The options after the selector of `-A`/`-E`: scheduler, persistence, one-packet, scheduler flags. */
export function serviceOptionArgs(spec: ServiceSpec): string[] {
  const args = ['-s', spec.scheduler];
  if (spec.persistence) {
    args.push('-p', String(spec.persistence.timeout));
    const prefix = spec.persistence.netmaskPrefix;
    if (spec.persistence.rawNetmask !== undefined) args.push('-M', spec.persistence.rawNetmask);
    else if (prefix !== hostPrefix(spec.key.family)) {
      args.push('-M', spec.key.family === 6 ? String(prefix) : prefixToIpv4Mask(prefix));
    }
  }
  if (spec.onePacket) args.push('-o');
  if (spec.schedulerFlags.length > 0) args.push('-b', [...spec.schedulerFlags].sort().join(','));
  return args;
}

function destEndpointArgs(dest: Pick<DestSpec, 'family' | 'address' | 'port'>): string[] {
  return ['-r', endpointText(dest.family, dest.address, dest.port)];
}

/** The options after `-r ADDR:PORT` of `-a`/`-e`. */
export function destOptionArgs(dest: DestSpec): string[] {
  const args = [FORWARDING_FLAG[dest.forwarding], '-w', String(dest.weight)];
  if (dest.upperThreshold !== 0) args.push('-x', String(dest.upperThreshold));
  if (dest.lowerThreshold !== 0) args.push('-y', String(dest.lowerThreshold));
  if (dest.forwarding === 'tunnel') {
    const type = dest.tunnelType ?? 'ipip';
    args.push('--tun-type', type);
    if (type === 'gue') args.push('--tun-port', String(dest.tunnelPort ?? 0));
    if (type !== 'ipip') args.push(CHECKSUM_FLAG[dest.tunnelChecksum ?? 'nocsum']);
  }
  return args;
}

/** One op as an ipvsadm argument array (no shell quoting is ever needed: no token contains spaces). */
export function opArgs(op: SaveCommand): string[] {
  switch (op.op) {
    case 'add-service':
      return ['-A', ...serviceSelectorArgs(op.service.key), ...serviceOptionArgs(op.service)];
    case 'edit-service':
      return ['-E', ...serviceSelectorArgs(op.service.key), ...serviceOptionArgs(op.service)];
    case 'del-service':
      return ['-D', ...serviceSelectorArgs(op.key)];
    case 'add-dest':
      return ['-a', ...serviceSelectorArgs(op.service), ...destEndpointArgs(op.dest), ...destOptionArgs(op.dest)];
    case 'edit-dest':
      return ['-e', ...serviceSelectorArgs(op.service), ...destEndpointArgs(op.dest), ...destOptionArgs(op.dest)];
    case 'del-dest':
      return ['-d', ...serviceSelectorArgs(op.service), ...destEndpointArgs(op.dest)];
    case 'flush':
      return ['-C'];
  }
}

export function formatOp(op: SaveCommand): string {
  return opArgs(op).join(' ');
}

export function formatOps(ops: readonly SaveCommand[]): string {
  return ops.map((op) => formatOp(op) + '\n').join('');
}

/** A table as `ipvsadm -S -n` would print it (plus thresholds), one `-A` followed by its `-a` lines. */
export function formatState(services: readonly (ServiceState | DesiredService)[]): string {
  const ops: SaveCommand[] = [];
  for (const s of services) {
    ops.push({ op: 'add-service', service: specOf(s) });
    for (const d of s.dests) ops.push({ op: 'add-dest', service: s.key, dest: destSpecOf(d) });
  }
  return formatOps(ops);
}

function specOf(s: ServiceSpec): ServiceSpec {
  const spec: ServiceSpec = { key: s.key, scheduler: s.scheduler, schedulerFlags: s.schedulerFlags, onePacket: s.onePacket };
  if (s.persistence) spec.persistence = s.persistence;
  return spec;
}

function destSpecOf(d: DestSpec): DestSpec {
  const spec: DestSpec = {
    family: d.family,
    address: d.address,
    port: d.port,
    forwarding: d.forwarding,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
  };
  if (d.tunnelType !== undefined) spec.tunnelType = d.tunnelType;
  if (d.tunnelPort !== undefined) spec.tunnelPort = d.tunnelPort;
  if (d.tunnelChecksum !== undefined) spec.tunnelChecksum = d.tunnelChecksum;
  return spec;
}

// ---------------------------------------------------------------- parsing

export class SaveFormatError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.length === 1 ? (errors[0] ?? '') : `${errors.length} errors: ${errors.slice(0, 5).join('; ')}`);
    this.name = 'SaveFormatError';
  }
}

export interface ParsedSave {
  commands: SaveCommand[];
  /** 1-based line number of each command, parallel to `commands`. */
  lineNumbers: number[];
  /** `line N: ...`, one per rejected line; the other lines are still parsed. */
  errors: string[];
}

type Command = 'A' | 'E' | 'D' | 'a' | 'e' | 'd' | 'C';
const COMMANDS: Record<string, Command> = {
  '-A': 'A', '--add-service': 'A', '-E': 'E', '--edit-service': 'E', '-D': 'D', '--delete-service': 'D',
  '-a': 'a', '--add-server': 'a', '-e': 'e', '--edit-server': 'e', '-d': 'd', '--delete-server': 'd',
  '-C': 'C', '--clear': 'C',
};

interface LineOptions {
  command?: Command;
  serviceFlag?: string;
  serviceText?: string;
  ipv6?: boolean;
  scheduler?: string;
  persistent?: number;
  netmask?: string;
  onePacket?: boolean;
  schedFlags?: string;
  realServer?: string;
  forwarding?: Forwarding;
  weight?: string;
  upper?: string;
  lower?: string;
  tunType?: string;
  tunPort?: string;
  checksum?: TunnelChecksum;
}

class LineError extends Error {}

function fail(message: string): never {
  throw new LineError(message);
}

function integer(text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || !/^\d+$/.test(text)) fail(`${what} must be an integer, got ${text === undefined ? 'nothing' : `'${text}'`}`);
  const n = Number(text);
  if (n < min || n > max) fail(`${what} ${n} is out of range ${min}..${max}`);
  return n;
}

function readOptions(tokens: string[]): LineOptions {
  const o: LineOptions = {};
  const setOnce = <K extends keyof LineOptions>(key: K, value: LineOptions[K], name: string): void => {
    if (o[key] !== undefined) fail(`${name} given twice`);
    o[key] = value;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const value = (): string => {
      const v = tokens[i + 1];
      if (v === undefined || (v.startsWith('-') && v.length > 1 && !/^-\d/.test(v))) fail(`${t} needs a value`);
      i++;
      return v;
    };
    const cmd = COMMANDS[t];
    if (cmd) {
      setOnce('command', cmd, 'command');
      continue;
    }
    switch (t) {
      case '-t': case '--tcp-service': case '-u': case '--udp-service': case '--sctp-service': case '-f': case '--fwmark-service':
        if (o.serviceFlag !== undefined) fail(`a second service selector ${t}`);
        o.serviceFlag = t;
        o.serviceText = value();
        break;
      case '-6': case '--ipv6':
        if (o.serviceFlag !== '-f' && o.serviceFlag !== '--fwmark-service') fail('-6 is only for a firewall-mark service and must follow -f');
        o.ipv6 = true;
        break;
      case '-s': case '--scheduler': setOnce('scheduler', value(), t); break;
      case '-p': case '--persistent': {
        // ipvsadm's -p takes an optional timeout and defaults to 360 s.
        const next = tokens[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) {
          i++;
          setOnce('persistent', integer(next, 'persistence timeout', 1, 2147483647), t);
        } else setOnce('persistent', 360, t);
        break;
      }
      case '-M': case '--netmask': setOnce('netmask', value(), t); break;
      case '-o': case '--ops': setOnce('onePacket', true, t); break;
      case '-b': case '--sched-flags': setOnce('schedFlags', value(), t); break;
      case '-r': case '--real-server': setOnce('realServer', value(), t); break;
      case '-m': case '--masquerading': setOnce('forwarding', 'masq', 'forwarding method'); break;
      case '-g': case '--gatewaying': setOnce('forwarding', 'route', 'forwarding method'); break;
      case '-i': case '--ipip': setOnce('forwarding', 'tunnel', 'forwarding method'); break;
      case '-w': case '--weight': setOnce('weight', value(), t); break;
      case '-x': case '--u-threshold': setOnce('upper', value(), t); break;
      case '-y': case '--l-threshold': setOnce('lower', value(), t); break;
      case '--tun-type': setOnce('tunType', value(), t); break;
      case '--tun-port': setOnce('tunPort', value(), t); break;
      case '--tun-nocsum': setOnce('checksum', 'nocsum', 'tunnel checksum'); break;
      case '--tun-csum': setOnce('checksum', 'csum', 'tunnel checksum'); break;
      case '--tun-remcsum': setOnce('checksum', 'remcsum', 'tunnel checksum'); break;
      default:
        fail(`unknown option '${t}'`);
    }
  }
  return o;
}

function serviceKeyOf(o: LineOptions): ServiceKey {
  if (o.serviceFlag === undefined || o.serviceText === undefined) fail('no service given (-t, -u, --sctp-service or -f)');
  if (o.serviceFlag === '-f' || o.serviceFlag === '--fwmark-service') {
    const fwmark = integer(o.serviceText, 'firewall mark', 1, 0xffffffff);
    return { kind: 'fwmark', family: o.ipv6 ? 6 : 4, fwmark };
  }
  const protocol = o.serviceFlag === '-t' || o.serviceFlag === '--tcp-service' ? 'tcp' : o.serviceFlag === '--sctp-service' ? 'sctp' : 'udp';
  const ep = splitEndpoint(o.serviceText);
  if (!ep) fail(`service address '${o.serviceText}' is not ADDR:PORT or [ADDR6]:PORT`);
  if (ep.port === undefined) fail(`service address '${o.serviceText}' has no port`);
  return { kind: 'addr', family: ep.family, protocol, address: ep.address, port: ep.port };
}

function serviceSpecOf(o: LineOptions, key: ServiceKey): ServiceSpec {
  const scheduler = o.scheduler ?? 'wlc'; // ipvsadm's default scheduler
  if (!/^[a-z0-9_]{1,15}$/.test(scheduler)) fail(`scheduler name '${scheduler}' is not valid`);
  const flags: SchedulerFlag[] = [];
  for (const f of (o.schedFlags ?? '').split(',').filter((x) => x !== '')) {
    if (!(SCHEDULER_FLAGS as readonly string[]).includes(f)) fail(`unknown scheduler flag '${f}'`);
    if (!f.startsWith(`${scheduler}-`)) fail(`scheduler flag '${f}' does not apply to scheduler ${scheduler}`);
    flags.push(f as SchedulerFlag);
  }
  const spec: ServiceSpec = { key, scheduler, schedulerFlags: [...new Set(flags)].sort(), onePacket: o.onePacket ?? false };
  // ipvsadm's own check, which in -R mode ends the whole restore rather than one line.
  if (spec.onePacket && key.kind === 'addr' && key.protocol !== 'udp') fail('one-packet scheduling (-o) is only for UDP (or fwmark) services');
  if (o.persistent !== undefined) {
    let prefix = hostPrefix(key.family);
    let raw: string | undefined;
    if (o.netmask !== undefined) {
      if (key.family === 6) prefix = integer(o.netmask, 'IPv6 netmask', 1, 128);
      else {
        const p = ipv4MaskToPrefix(o.netmask);
        if (p !== undefined) prefix = p;
        else if (isIPv4(o.netmask)) {
          // ipvsadm and the kernel accept a non-contiguous mask: keep it as read, so -Sn round-trips.
          prefix = -1;
          raw = o.netmask;
        } else fail(`netmask '${o.netmask}' is not an IPv4 netmask`);
      }
    }
    spec.persistence = raw === undefined ? { timeout: o.persistent, netmaskPrefix: prefix } : { timeout: o.persistent, netmaskPrefix: prefix, rawNetmask: raw };
  } else if (o.netmask !== undefined) fail('-M needs -p: a netmask only applies to persistence');
  return spec;
}

function destKeyOf(o: LineOptions, key: ServiceKey): { family: Family; address: string; port: number } {
  if (o.realServer === undefined) fail('no real server given (-r)');
  const ep = splitEndpoint(o.realServer);
  if (!ep) fail(`real server '${o.realServer}' is not ADDR[:PORT] or [ADDR6][:PORT]`);
  const defaultPort = key.kind === 'fwmark' ? 0 : key.port;
  return { family: ep.family, address: ep.address, port: ep.port ?? defaultPort };
}

function destSpecOfLine(o: LineOptions, key: ServiceKey): DestSpec {
  const k = destKeyOf(o, key);
  const forwarding = o.forwarding ?? 'route'; // ipvsadm's default is gatewaying (direct routing)
  const dest: DestSpec = {
    ...k,
    // ipvsadm replaces the port of a non-masquerading destination with the service's port.
    port: forwarding === 'masq' ? k.port : key.kind === 'fwmark' ? 0 : key.port,
    forwarding,
    weight: o.weight === undefined ? 1 : integer(o.weight, 'weight', 0, MAX_WEIGHT),
    upperThreshold: o.upper === undefined ? 0 : integer(o.upper, 'upper threshold', 0, MAX_THRESHOLD),
    lowerThreshold: o.lower === undefined ? 0 : integer(o.lower, 'lower threshold', 0, MAX_THRESHOLD),
  };
  if (k.family !== key.family && forwarding !== 'tunnel') fail('a real server of another address family needs tunnel forwarding (-i)');
  if (forwarding === 'tunnel') {
    const type = (o.tunType ?? 'ipip') as TunnelType;
    if (!['ipip', 'gue', 'gre'].includes(type)) fail(`unknown tunnel type '${o.tunType ?? ''}'`);
    dest.tunnelType = type;
    if (type === 'gue') {
      if (o.tunPort === undefined) fail("tunnel type gue needs --tun-port");
      dest.tunnelPort = integer(o.tunPort, 'tunnel port', 1, 65535);
    } else if (o.tunPort !== undefined) fail(`--tun-port only applies to tunnel type gue`);
    if (type !== 'ipip') dest.tunnelChecksum = o.checksum ?? 'nocsum';
    else if (o.checksum !== undefined) fail('tunnel checksum options do not apply to ipip');
  } else if (o.tunType !== undefined || o.tunPort !== undefined || o.checksum !== undefined) {
    fail('tunnel options need tunnel forwarding (-i)');
  }
  return dest;
}

function rejectUnused(o: LineOptions, allowed: (keyof LineOptions)[]): void {
  const always: (keyof LineOptions)[] = ['command', 'serviceFlag', 'serviceText', 'ipv6'];
  for (const k of Object.keys(o) as (keyof LineOptions)[]) {
    if (o[k] !== undefined && !always.includes(k) && !allowed.includes(k)) fail(`option ${k} does not apply to this command`);
  }
}

const SERVICE_OPTIONS: (keyof LineOptions)[] = ['scheduler', 'persistent', 'netmask', 'onePacket', 'schedFlags'];
const DEST_OPTIONS: (keyof LineOptions)[] = ['realServer', 'forwarding', 'weight', 'upper', 'lower', 'tunType', 'tunPort', 'checksum'];

export function parseSaveLine(line: string): SaveCommand | undefined {
  const tokens = line.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0 || tokens[0]?.startsWith('#')) return undefined;
  const o = readOptions(tokens);
  switch (o.command) {
    case undefined:
      return fail('no command (-A, -E, -D, -a, -e, -d or -C)');
    case 'C':
      if (o.serviceFlag !== undefined) fail('-C takes no service');
      rejectUnused(o, []);
      return { op: 'flush' };
    case 'A':
    case 'E': {
      rejectUnused(o, SERVICE_OPTIONS);
      const service = serviceSpecOf(o, serviceKeyOf(o));
      return o.command === 'A' ? { op: 'add-service', service } : { op: 'edit-service', service };
    }
    case 'D':
      rejectUnused(o, []);
      return { op: 'del-service', key: serviceKeyOf(o) };
    case 'a':
    case 'e': {
      rejectUnused(o, DEST_OPTIONS);
      const key = serviceKeyOf(o);
      const dest = destSpecOfLine(o, key);
      return o.command === 'a' ? { op: 'add-dest', service: key, dest } : { op: 'edit-dest', service: key, dest };
    }
    case 'd': {
      rejectUnused(o, ['realServer']);
      const key = serviceKeyOf(o);
      return { op: 'del-dest', service: key, dest: destKeyOf(o, key) };
    }
  }
}

/**
 * Why ipvsadm would refuse to even send this op (its own argument checks), or undefined. In `-R` mode such a
 * refusal ends the restore at that line, so the ipvsadm backend screens every op with this first.
 */
export function ipvsadmRejects(op: SaveCommand): string | undefined {
  try {
    parseSaveLine(formatOp(op));
    return undefined;
  } catch (err) {
    if (err instanceof LineError) return err.message;
    throw err;
  }
}

/** Parse restore text; every bad line yields `line N: why` and parsing carries on with the next line. */
export function parseSave(text: string): ParsedSave {
  const commands: SaveCommand[] = [];
  const lineNumbers: number[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, index) => {
    try {
      const cmd = parseSaveLine(line);
      if (cmd) {
        commands.push(cmd);
        lineNumbers.push(index + 1);
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      errors.push(`line ${index + 1}: ${err.message}`);
    }
  });
  return { commands, lineNumbers, errors };
}

function serviceMapKey(key: ServiceKey): string {
  return key.kind === 'fwmark' ? `fwmark/${key.family}/${key.fwmark}` : `${key.protocol}/${key.address}/${key.port}`;
}

/**
 * `ipvsadm -S -n` output as a table. Connection counters are zero and thresholds are zero because -Sn
 * prints neither; merge with `-Ln --thresholds` output when they matter.
 */
export function parseSaveState(text: string): ServiceState[] {
  const { commands, lineNumbers, errors } = parseSave(text);
  const byKey = new Map<string, ServiceState>();
  commands.forEach((cmd, i) => {
    const where = `line ${lineNumbers[i] ?? '?'}`;
    if (cmd.op === 'add-service') {
      const id = serviceMapKey(cmd.service.key);
      if (byKey.has(id)) errors.push(`${where}: service listed twice`);
      else byKey.set(id, { ...cmd.service, dests: [] });
    } else if (cmd.op === 'add-dest') {
      const svc = byKey.get(serviceMapKey(cmd.service));
      if (!svc) errors.push(`${where}: real server before its service`);
      else svc.dests.push({ ...cmd.dest, activeConns: 0, inactiveConns: 0, persistConns: 0 });
    } else errors.push(`${where}: ${cmd.op} does not belong in a saved table`);
  });
  if (errors.length > 0) throw new SaveFormatError(errors);
  return [...byKey.values()];
}
