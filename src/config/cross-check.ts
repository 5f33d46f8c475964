/**
 * Rules that span sections or list items: uniqueness (names, VRIDs, services) and references (track checks,
 * sync groups, schedules). Pure: takes the parsed configuration, returns path issues.
 *
 * It also runs on a partly valid configuration (items that failed their own validation are `undefined`), so an
 * operator sees these errors together with the others; references into a list with a failed item are not
 * checked, because the name being referred to may be on the broken item.
 */
import { formatEndpoint, parseEndpoint, type Endpoint } from './address.js';
import type { PathIssue } from './issues.js';
import { didYouMean } from './suggest.js';

/** What the cross-item rules need of each item; full parsed items have all of it. */
export interface ServiceIdentity {
  name: string;
  address?: Endpoint;
  fwmark?: number;
  family: 'inet' | 'inet6';
  protocol: string;
  real_servers: readonly { address: Endpoint }[];
}
export interface Reference { virtual_server: string; real_server?: string }
export interface InstanceIdentity {
  name: string;
  lvs_sync?: { interface: string; sync_id: number; handover?: boolean; reset_grace?: number } | undefined;
  interface: string;
  virtual_router_id: number;
  virtual_ips: readonly { address: { address: string; family: number } }[];
  track: { checks: readonly Reference[] };
  accept?: boolean;
  priority?: number;
}

export interface CheckableConfig {
  vrrp: { instances: readonly (InstanceIdentity | undefined)[]; sync_groups: readonly ({ name: string; instances: readonly string[] } | undefined)[] };
  virtual_servers: readonly (ServiceIdentity | undefined)[];
  alerts: { sinks: readonly ({ name: string } | undefined)[] };
  schedules: readonly ({ name: string; sinks?: readonly string[]; targets?: readonly Reference[] } | undefined)[];
}

/** Report the second and later items that share a key with an earlier one. */
function duplicates<T>(
  items: readonly (T | undefined)[],
  keyOf: (t: T) => string | undefined,
  report: (index: number, firstIndex: number, key: string) => void,
): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    if (it === undefined) return;
    const k = keyOf(it);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else report(i, first, k);
  });
}

function serviceKey(vs: ServiceIdentity): string {
  return vs.address ? `${vs.protocol} ${formatEndpoint(vs.address)}` : `fwmark ${vs.fwmark ?? 0} ${vs.family}`;
}

/** A virtual server referred to by name, or by its address written any way (`[2001:DB8::1]:80`). */
export function findVirtualServer<T extends ServiceIdentity>(list: readonly (T | undefined)[], ref: string): T | undefined {
  const byName = list.find((v) => v?.name === ref);
  if (byName) return byName;
  const ep = parseEndpoint(ref);
  if (!ep.ok) return undefined;
  const matches = list.filter((v) => v?.address && formatEndpoint(v.address) === formatEndpoint(ep.value));
  return matches.length === 1 ? matches[0] : undefined;
}

/** A real server of `vs` by endpoint; the port may be omitted when it is the service's port. */
export function findRealServer(vs: ServiceIdentity, ref: string): Endpoint | undefined {
  const ep = parseEndpoint(ref, { defaultPort: vs.address?.port ?? 0 });
  if (!ep.ok) return undefined;
  return vs.real_servers.find((r) => r.address.address === ep.value.address && r.address.port === ep.value.port)?.address;
}

function unknownRef(kind: string, ref: string, known: string[]): string {
  const s = didYouMean(ref, known);
  return `unknown ${kind} "${ref}"${s ? `; did you mean "${s}"?` : ''}`;
}

export function crossCheck(c: CheckableConfig): PathIssue[] {
  const out: PathIssue[] = [];
  const instances = c.vrrp.instances;
  const services = c.virtual_servers;
  const sinks = c.alerts.sinks;
  const complete = <T>(list: readonly (T | undefined)[]): boolean => list.every((x) => x !== undefined);

  duplicates(instances, (i) => i.name, (n, f, k) => out.push({ path: ['vrrp', 'instances', n, 'name'], message: `duplicate instance name "${k}" (also vrrp.instances[${f}])` }));
  // RFC 5798: a VRID identifies a router per interface and address family (IPv4 and IPv6 are separate).
  duplicates(
    instances,
    (i) => `${i.interface} ${i.virtual_router_id} ${i.virtual_ips[0]?.address.family ?? 4}`,
    (n, f) => {
      const i = instances[n];
      out.push({
        path: ['vrrp', 'instances', n, 'virtual_router_id'],
        message: `virtual_router_id ${i?.virtual_router_id ?? ''} is already used on ${i?.interface ?? ''} by vrrp.instances[${f}]`,
      });
    },
  );
  const vipOwner = new Map<string, number>();
  instances.forEach((inst, n) => {
    inst?.virtual_ips.forEach((v, k) => {
      const first = vipOwner.get(v.address.address);
      if (first !== undefined && first !== n) out.push({ path: ['vrrp', 'instances', n, 'virtual_ips', k], message: `${v.address.address} is also a virtual IP of vrrp.instances[${first}]` });
      else vipOwner.set(v.address.address, n);
    });
  });

  // accept: false drops a non-owner Master's VIP traffic in the input hook, before IPVS (LOCAL_IN) sees it: on a
  // virtual server's address that black-holes the service. (fwmark services have no address to compare.)
  instances.forEach((inst, n) => {
    if (inst?.accept !== false || (inst.priority ?? 100) >= 255) return;
    const used = inst.virtual_ips.flatMap((v) => {
      const vs = services.find((s) => s?.address?.address === v.address.address);
      return vs ? [`${v.address.address} (virtual server "${vs.name}")`] : [];
    });
    if (used.length > 0) {
      out.push({
        path: ['vrrp', 'instances', n, 'accept'],
        message: `accept: false would make the Master drop traffic to ${used.join(', ')} before IPVS sees it; remove it (accept: true is the default) or use a VIP no virtual server listens on`,
      });
    }
  });

  // The kernel runs one IPVS sync daemon pair per director, so only one instance may drive it.
  const syncOwner = instances.findIndex((i) => i?.lvs_sync !== undefined);
  instances.forEach((inst, n) => {
    if (inst?.lvs_sync && n !== syncOwner) out.push({ path: ['vrrp', 'instances', n, 'lvs_sync'], message: `only one instance may set lvs_sync (already set by vrrp.instances[${syncOwner}])` });
  });

  duplicates(c.vrrp.sync_groups, (g) => g.name, (n, f, k) => out.push({ path: ['vrrp', 'sync_groups', n, 'name'], message: `duplicate sync group name "${k}" (also vrrp.sync_groups[${f}])` }));
  const instanceNames = instances.flatMap((i) => (i ? [i.name] : []));
  const groupOf = new Map<string, number>();
  c.vrrp.sync_groups.forEach((g, n) => {
    g?.instances.forEach((ref, k) => {
      const path = ['vrrp', 'sync_groups', n, 'instances', k];
      if (complete(instances) && !instanceNames.includes(ref)) out.push({ path, message: unknownRef('instance', ref, instanceNames) });
      const other = groupOf.get(ref);
      if (other !== undefined) out.push({ path, message: other === n ? `instance "${ref}" is listed twice` : `instance "${ref}" is already in vrrp.sync_groups[${other}]` });
      else groupOf.set(ref, n);
    });
  });

  // Two services with the same address also share the default name: report that once, as a duplicate service.
  const sameService = (n: number, f: number): boolean => {
    const a = services[n];
    const b = services[f];
    return a !== undefined && b !== undefined && serviceKey(a) === serviceKey(b);
  };
  duplicates(services, (v) => v.name, (n, f, k) => sameService(n, f) || out.push({ path: ['virtual_servers', n, 'name'], message: `duplicate virtual server name "${k}" (also virtual_servers[${f}])` }));
  duplicates(services, serviceKey, (n, f, k) => out.push({ path: ['virtual_servers', n, services[n]?.address ? 'address' : 'fwmark'], message: `duplicate virtual server ${k} (also virtual_servers[${f}])` }));

  const serviceNames = services.flatMap((v) => (v ? [v.name] : []));
  instances.forEach((inst, n) => {
    inst?.track.checks.forEach((t, k) => {
      const base = ['vrrp', 'instances', n, 'track', 'checks', k];
      if (!complete(services)) return;
      const vs = findVirtualServer(services, t.virtual_server);
      if (!vs) out.push({ path: [...base, 'virtual_server'], message: unknownRef('virtual server', t.virtual_server, serviceNames) });
      else if (t.real_server !== undefined && !findRealServer(vs, t.real_server)) {
        out.push({ path: [...base, 'real_server'], message: `virtual server "${vs.name}" has no real server ${t.real_server}` });
      }
    });
  });

  duplicates(sinks, (s) => s.name, (n, f, k) => out.push({ path: ['alerts', 'sinks', n, 'name'], message: `duplicate sink name "${k}" (also alerts.sinks[${f}])` }));
  const sinkNames = sinks.flatMap((s) => (s ? [s.name] : []));
  duplicates(c.schedules, (s) => s.name, (n, f, k) => out.push({ path: ['schedules', n, 'name'], message: `duplicate schedule name "${k}" (also schedules[${f}])` }));
  c.schedules.forEach((s, n) => {
    if (!s) return;
    if (complete(sinks)) {
      s.sinks?.forEach((ref, k) => {
        if (!sinkNames.includes(ref)) out.push({ path: ['schedules', n, 'sinks', k], message: unknownRef('sink', ref, sinkNames) });
      });
    }
    if (complete(services)) {
      s.targets?.forEach((t, k) => {
        const vs = findVirtualServer(services, t.virtual_server);
        if (!vs) out.push({ path: ['schedules', n, 'targets', k, 'virtual_server'], message: unknownRef('virtual server', t.virtual_server, serviceNames) });
        else if (t.real_server !== undefined && !findRealServer(vs, t.real_server)) {
          out.push({ path: ['schedules', n, 'targets', k, 'real_server'], message: `virtual server "${vs.name}" has no real server ${t.real_server}` });
        }
      });
    }
  });
  return out;
}
