/**
 * Virtual servers and their real servers. The zod object checks each key; the transform then resolves what
 * depends on several keys (endpoint ports defaulting to the service's, effective health checks, forwarding
 * overrides) and reports conflicts with paths relative to the virtual server.
 */
import { z } from 'zod';
import { SCHEDULERS } from '../ipvs/model.js';
import { formatEndpoint, parseCidr, parseEndpoint, type Endpoint } from './address.js';
import { checkSchema, rawCheck } from './check-schema.js';
import { bool, duration, endpointText, int, name, oneOf, port, ruleIssue } from './fields.js';
import { explainZodIssues, type PathIssue, type PathSegment } from './issues.js';

export const FORWARDING = ['nat', 'dr', 'tun'] as const;
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
const U32_MAX = 2 ** 32 - 1;

export type CheckConfig = z.output<typeof checkSchema>;
export type ForwardingMethod = (typeof FORWARDING)[number];

const realServerInput = z.strictObject({
  address: endpointText(),
  weight: int(0, 65535).default(1),
  forwarding: oneOf(FORWARDING).optional(),
  upper_threshold: int(0, U32_MAX).default(0),
  lower_threshold: int(0, U32_MAX).default(0),
  check: rawCheck.optional(),
});

const persistenceInput = z.strictObject({
  timeout: duration({ min: 1000, max: U32_MAX * 1000 }),
  netmask: z.union([int(0, 128), z.string()], { error: 'netmask must be a prefix length (24) or an IPv4 mask (255.255.255.0)' }).optional(),
});

const flapInput = z
  .strictObject({
    max_changes: int(0, 1000).default(0),
    window: duration({ min: 1000 }).default(60_000),
    penalty: duration().default(60_000),
  })
  .prefault({});

const virtualServerInput = z.strictObject({
  name: name().optional(),
  address: endpointText().optional(),
  protocol: oneOf(['tcp', 'udp', 'sctp'] as const).optional(),
  fwmark: int(1, U32_MAX).optional(),
  family: oneOf(['inet', 'inet6'] as const).optional(),
  scheduler: oneOf(SCHEDULERS).default('wlc'),
  scheduler_flags: z.array(oneOf(SCHEDULER_FLAGS)).default([]),
  forwarding: oneOf(FORWARDING).default('nat'),
  tunnel_type: oneOf(['ipip', 'gue', 'gre'] as const).optional(),
  tunnel_port: port().optional(),
  persistence: persistenceInput.optional(),
  one_packet: bool().default(false),
  on_failure: oneOf(['inhibit', 'remove'] as const).default('inhibit'),
  quorum: int(0, U32_MAX).default(1),
  quorum_hysteresis: int(0, U32_MAX).default(0),
  sorry_server: endpointText().optional(),
  panic_threshold: int(0, 100).default(0),
  slow_start: duration({ max: 3_600_000 }).default(0),
  flap: flapInput,
  drain_timeout: duration({ max: 86_400_000 }).default(300_000),
  check: rawCheck.optional(),
  real_servers: z.array(realServerInput).default([]),
});

type VirtualServerInput = z.output<typeof virtualServerInput>;

export interface RealServerConfig {
  /** Port defaults to the virtual server's (0 for a fwmark service: "the port the client used"). */
  address: Endpoint;
  weight: number;
  forwarding: ForwardingMethod;
  /** 0 = no limit. */
  upper_threshold: number;
  lower_threshold: number;
  /** Effective check: the virtual server's default merged with this server's override; absent = always up. */
  check?: CheckConfig;
}

export interface VirtualServerConfig {
  name: string;
  /** Address-based service; absent for a fwmark service. */
  address?: Endpoint;
  protocol: 'tcp' | 'udp' | 'sctp';
  fwmark?: number;
  family: 'inet' | 'inet6';
  scheduler: (typeof SCHEDULERS)[number];
  scheduler_flags: (typeof SCHEDULER_FLAGS)[number][];
  forwarding: ForwardingMethod;
  tunnel_type: 'ipip' | 'gue' | 'gre';
  tunnel_port?: number;
  /** timeout in ms (whole seconds); netmask as a prefix length. */
  persistence?: { timeout: number; netmask: number };
  one_packet: boolean;
  on_failure: 'inhibit' | 'remove';
  quorum: number;
  quorum_hysteresis: number;
  sorry_server?: Endpoint;
  panic_threshold: number;
  slow_start: number;
  flap: { max_changes: number; window: number; penalty: number };
  drain_timeout: number;
  /** The default check as written on the virtual server (each real server's `check` is the effective one). */
  check?: CheckConfig;
  real_servers: RealServerConfig[];
}

/** `fwmark:7`, `fwmark:7/inet6`, or the endpoint: the name used when none is given. */
export function defaultVirtualServerName(v: { address?: Endpoint; fwmark?: number; family: 'inet' | 'inet6' }): string {
  if (v.address) return formatEndpoint(v.address);
  return v.family === 'inet6' ? `fwmark:${v.fwmark ?? 0}/inet6` : `fwmark:${v.fwmark ?? 0}`;
}

function netmaskPrefix(raw: number | string | undefined, family: 4 | 6): { prefix: number } | { error: string } {
  const max = family === 4 ? 32 : 128;
  if (raw === undefined) return { prefix: max };
  if (typeof raw === 'number') return raw <= max ? { prefix: raw } : { error: `netmask prefix must be 0..${max}` };
  if (family === 6) return { error: 'for IPv6 write the netmask as a prefix length (e.g. 64)' };
  const c = parseCidr(raw);
  if (!c.ok || c.value.family !== 4) return { error: `netmask "${raw}" is not a prefix length or an IPv4 mask` };
  const bits = c.value.address.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const prefix = 32 - Math.log2((~bits >>> 0) + 1);
  if (!Number.isInteger(prefix)) return { error: `netmask "${raw}" is not contiguous` };
  return { prefix };
}

type Report = (path: PathSegment[], message: string, atKey?: boolean) => void;

/** checkSchema on a raw mapping, issues reported under `base`. */
function parseCheck(raw: Record<string, unknown>, base: PathSegment[], report: Report): { check?: CheckConfig; issues: PathIssue[] } {
  const r = checkSchema.safeParse(raw);
  if (r.success) return { check: r.data, issues: [] };
  const issues = explainZodIssues(checkSchema, raw, r.error.issues);
  for (const i of issues) report([...base, ...i.path], i.message, i.atKey);
  return { issues };
}

function resolve(vs: VirtualServerInput, ctx: z.RefinementCtx): VirtualServerConfig {
  const report: Report = (path, message, atKey) => ruleIssue(ctx, path, message, atKey);

  // Exactly one way to identify the service.
  if (vs.address !== undefined && vs.fwmark !== undefined) report(['fwmark'], 'use either address or fwmark, not both');
  if (vs.address === undefined && vs.fwmark === undefined) report([], 'a virtual server needs an address (e.g. 203.0.113.1:80) or a fwmark');
  if (vs.fwmark !== undefined && vs.protocol !== undefined) report(['protocol'], 'protocol is only for address-based virtual servers (a fwmark service covers every protocol)');
  if (vs.address !== undefined && vs.family !== undefined) report(['family'], 'family comes from the address; set it only with fwmark');

  let address: Endpoint | undefined;
  if (vs.address !== undefined) {
    const a = parseEndpoint(vs.address);
    if (a.ok) address = a.value;
    else report(['address'], a.message);
  }
  const family = address ? (address.family === 6 ? 'inet6' : 'inet') : (vs.family ?? 'inet');
  const fam: 4 | 6 = family === 'inet6' ? 6 : 4;
  const protocol = vs.protocol ?? 'tcp';
  const servicePort = address?.port ?? 0;

  vs.scheduler_flags.forEach((flag, i) => {
    const sched = flag.slice(0, 2);
    if (sched !== vs.scheduler) report(['scheduler_flags', i], `${flag} only applies to scheduler ${sched} (this one uses ${vs.scheduler})`);
    if (vs.scheduler_flags.indexOf(flag) !== i) report(['scheduler_flags', i], `${flag} is listed twice`);
  });

  const usesTun = vs.forwarding === 'tun' || vs.real_servers.some((rs) => rs.forwarding === 'tun');
  if (vs.tunnel_type !== undefined && !usesTun) report(['tunnel_type'], 'tunnel_type needs forwarding: tun (on the virtual server or a real server)');
  const tunnelType = vs.tunnel_type ?? 'ipip';
  if (tunnelType === 'gue' && vs.tunnel_port === undefined) report(['tunnel_type'], 'tunnel_type gue needs tunnel_port');
  if (tunnelType !== 'gue' && vs.tunnel_port !== undefined) report(['tunnel_port'], 'tunnel_port is only for tunnel_type gue');

  if (vs.one_packet && vs.fwmark === undefined && protocol !== 'udp') report(['one_packet'], 'one_packet scheduling is only for udp (or fwmark) services');
  if (vs.quorum_hysteresis > vs.quorum) report(['quorum_hysteresis'], `quorum_hysteresis (${vs.quorum_hysteresis}) must not exceed quorum (${vs.quorum})`);

  let persistence: VirtualServerConfig['persistence'];
  if (vs.persistence) {
    if (vs.persistence.timeout % 1000 !== 0) report(['persistence', 'timeout'], 'persistence timeout is kept in whole seconds by the kernel');
    const nm = netmaskPrefix(vs.persistence.netmask, fam);
    if ('error' in nm) report(['persistence', 'netmask'], nm.error);
    else persistence = { timeout: vs.persistence.timeout, netmask: nm.prefix };
  }

  let sorry: Endpoint | undefined;
  if (vs.sorry_server !== undefined) {
    const s = parseEndpoint(vs.sorry_server, { defaultPort: servicePort });
    if (!s.ok) report(['sorry_server'], s.message);
    else if (s.value.family !== fam) report(['sorry_server'], `sorry_server is IPv${s.value.family} but the virtual server is IPv${fam}`);
    else if (address && s.value.address === address.address && s.value.port === address.port) report(['sorry_server'], 'sorry_server must not be the virtual server itself');
    else sorry = s.value;
  }

  const vsCheck = vs.check ? parseCheck(vs.check, ['check'], report) : { issues: [] as PathIssue[] };
  const seen = new Map<string, number>();
  const realServers: RealServerConfig[] = [];
  vs.real_servers.forEach((rs, i) => {
    const at = (...p: PathSegment[]): PathSegment[] => ['real_servers', i, ...p];
    const forwarding = rs.forwarding ?? vs.forwarding;
    const ep = parseEndpoint(rs.address, { defaultPort: servicePort });
    if (!ep.ok) {
      report(at('address'), ep.message);
      return;
    }
    const ra = ep.value;
    if (ra.family !== fam) report(at('address'), `real server is IPv${ra.family} but the virtual server is IPv${fam}`);
    if (forwarding !== 'nat' && servicePort !== 0 && ra.port !== servicePort) {
      report(at('address'), `${forwarding} forwarding cannot change the port: use ${servicePort} or omit it (only nat maps ports)`);
    }
    const key = formatEndpoint(ra);
    const first = seen.get(key);
    if (first !== undefined) report(at('address'), `duplicate real server ${key} (also real_servers[${first}])`);
    else seen.set(key, i);
    // The kernel refuses l_threshold > u_threshold with ERANGE even when u_threshold is 0 ("no limit").
    if (rs.lower_threshold > rs.upper_threshold) {
      const hint = rs.upper_threshold === 0 ? ' (set upper_threshold too: the kernel refuses a lower threshold without an upper one)' : '';
      report(at('lower_threshold'), `lower_threshold (${rs.lower_threshold}) must not exceed upper_threshold (${rs.upper_threshold})${hint}`);
    }

    let check = vsCheck.check;
    if (rs.check) {
      // Parse the merged mapping silently, then place each problem where the offending key was written.
      const merged = { ...(vs.check ?? {}), ...rs.check };
      const r = parseCheck(merged, [], () => undefined);
      check = r.check;
      const vsMessages = new Set(vsCheck.issues.map((x) => `${x.path.join('.')}\u0000${x.message}`));
      for (const iss of r.issues) {
        const key = iss.path[0];
        // Inherited: the key was written on the virtual server's check and not overridden here.
        const inherited = typeof key === 'string' && !(key in rs.check) && vs.check !== undefined && key in vs.check;
        const own = !inherited;
        if (own) report(at('check', ...iss.path), iss.message, iss.atKey);
        else if (!vsMessages.has(`${iss.path.join('.')}\u0000${iss.message}`)) report(at('check', ...iss.path), `${iss.message}; inherited from the virtual server's check`, iss.atKey);
      }
    }
    const target = check?.connect ?? ra;
    if (check?.bind && check.bind.family !== target.family) {
      const where = rs.check && 'bind' in rs.check ? at('check', 'bind') : at('check');
      report(where, `check.bind is IPv${check.bind.family} but the probe goes to IPv${target.family} ${target.address}`);
    }
    if (check && ra.port === 0 && check.type !== 'script' && check.connect === undefined) {
      report(at('check'), 'this real server has no port (fwmark service): set check.connect to say where to probe');
    }
    realServers.push({ address: ra, weight: rs.weight, forwarding, upper_threshold: rs.upper_threshold, lower_threshold: rs.lower_threshold, ...(check ? { check } : {}) });
  });

  const out: VirtualServerConfig = {
    name: vs.name ?? defaultVirtualServerName({ address, fwmark: vs.fwmark, family }),
    protocol,
    family,
    scheduler: vs.scheduler,
    scheduler_flags: vs.scheduler_flags,
    forwarding: vs.forwarding,
    tunnel_type: tunnelType,
    one_packet: vs.one_packet,
    on_failure: vs.on_failure,
    quorum: vs.quorum,
    quorum_hysteresis: vs.quorum_hysteresis,
    panic_threshold: vs.panic_threshold,
    slow_start: vs.slow_start,
    flap: vs.flap,
    drain_timeout: vs.drain_timeout,
    real_servers: realServers,
  };
  if (address) out.address = address;
  if (vs.fwmark !== undefined) out.fwmark = vs.fwmark;
  if (vs.tunnel_port !== undefined) out.tunnel_port = vs.tunnel_port;
  if (persistence) out.persistence = persistence;
  if (sorry) out.sorry_server = sorry;
  if (vsCheck.check) out.check = vsCheck.check;
  return out;
}

export const virtualServerSchema = virtualServerInput.transform(resolve);
