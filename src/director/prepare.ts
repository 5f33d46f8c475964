/**
 * `lvskeep director prepare`: the sysctls an LVS director needs, from the configuration. Exported for the
 * daemon (`run` calls prepareDirector at start when `director.sysctls: auto`).
 * - NAT services: the director routes the real servers' replies back to clients, so it must forward:
 *   net.ipv4.ip_forward=1 (net.ipv6.conf.all.forwarding=1 for IPv6 services).
 * - send_redirects=0 on all, default and each director interface: with clients or real servers on the same
 *   LAN, a forwarding director would otherwise send ICMP redirects telling them to bypass it. The kernel
 *   sends redirects when conf/all OR conf/<dev> allows it, so both must be 0; `default` covers interfaces
 *   created later.
 */
import type { LvskeepConfig } from '../config/types.js';
import { planSysctls, type SysctlChange, type SysctlSetting } from '../realserver/sysctl-plan.js';
import { confKey, procSysIo, type SysctlIo } from '../realserver/sysctl.js';
import { errorMessage } from '../util/errors.js';

/** Interfaces the director uses, from the config: VRRP instances, their VIPs' devices, sync and tracked interfaces. */
export function directorInterfaces(config: Pick<LvskeepConfig, 'vrrp'>): string[] {
  const names = new Set<string>();
  for (const i of config.vrrp.instances) {
    names.add(i.interface);
    for (const v of i.virtual_ips) if (v.dev !== undefined) names.add(v.dev);
    if (i.lvs_sync) names.add(i.lvs_sync.interface);
    for (const t of i.track.interfaces) names.add(t.name);
  }
  return [...names].sort();
}

/** Pure: the settings the config calls for (empty when it has no NAT services). */
export function wantedDirectorSysctls(config: Pick<LvskeepConfig, 'vrrp' | 'virtual_servers'>): SysctlSetting[] {
  const nat = config.virtual_servers.filter((v) => v.forwarding === 'nat' || v.real_servers.some((r) => r.forwarding === 'nat'));
  if (nat.length === 0) return [];
  const names = (family: 'inet' | 'inet6'): string =>
    nat
      .filter((v) => v.family === family)
      .map((v) => v.name)
      .join(', ');
  const out: SysctlSetting[] = [];
  const v4 = names('inet');
  const v6 = names('inet6');
  if (v4) out.push({ key: 'net.ipv4.ip_forward', value: '1', why: `NAT virtual servers route replies back to clients (${v4})` });
  if (v6) out.push({ key: 'net.ipv6.conf.all.forwarding', value: '1', why: `IPv6 NAT virtual servers route replies back to clients (${v6})` });
  for (const dev of ['all', 'default', ...directorInterfaces(config)]) {
    out.push({ key: confKey(4, dev, 'send_redirects'), value: '0', why: 'a forwarding director must not redirect hosts on its LAN around itself' });
  }
  return out;
}

export interface PrepareOptions {
  sysctl?: SysctlIo;
  dryRun?: boolean;
}

export interface PrepareReport {
  dryRun: boolean;
  /** Planned changes (all of them applied unless dryRun). */
  changes: SysctlChange[];
  unchanged: SysctlSetting[];
}

/** A failure part-way, with the changes already applied before it. */
export class PrepareError extends Error {
  constructor(
    message: string,
    readonly applied: SysctlChange[],
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'PrepareError';
  }
}

export async function prepareDirector(config: Pick<LvskeepConfig, 'vrrp' | 'virtual_servers'>, opts: PrepareOptions = {}): Promise<PrepareReport> {
  const io = opts.sysctl ?? procSysIo();
  const wanted = wantedDirectorSysctls(config);
  const applied: SysctlChange[] = [];
  try {
    const current = new Map<string, string>();
    for (const w of wanted) current.set(w.key, await io.read(w.key));
    const plan = planSysctls(current, wanted);
    if (opts.dryRun) return { dryRun: true, ...plan };
    // Check all first, so "no root" or a read-only /proc/sys changes nothing.
    for (const c of plan.changes) await io.checkWritable(c.key);
    for (const c of plan.changes) {
      await io.write(c.key, c.to);
      applied.push(c);
    }
    return { dryRun: false, ...plan };
  } catch (err) {
    throw new PrepareError(errorMessage(err), applied, err);
  }
}
