/**
 * When some items fail validation, cross-item rules (duplicate names, VRIDs, services; references) still run on
 * what can be identified. An item that validates is used as is; one that does not is reduced to its identity
 * (name, address, VRID...) read leniently from the raw YAML, or `undefined` when even that is unreadable.
 */
import type { z } from 'zod';
import { parseCidr, parseEndpoint, type Endpoint } from './address.js';
import type { CheckableConfig, InstanceIdentity, Reference, ServiceIdentity } from './cross-check.js';
import { sectionSchemas } from './schema.js';
import { defaultVirtualServerName } from './virtual-server-schema.js';

type Raw = Record<string, unknown>;
const isRaw = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Map every element: the parsed item when valid, else `identity(raw)` (undefined if unreadable). */
function items<S extends z.ZodType, T>(schema: S, raw: unknown, identity: (r: Raw) => T | undefined): (z.output<S> | T | undefined)[] {
  return list(raw).map((item) => {
    const r = schema.safeParse(item);
    if (r.success) return r.data;
    return isRaw(item) ? identity(item) : undefined;
  });
}

function references(raw: unknown): Reference[] | undefined {
  const out: Reference[] = [];
  for (const r of list(raw)) {
    if (!isRaw(r) || !str(r.virtual_server)) return undefined;
    const real = str(r.real_server);
    out.push(real === undefined ? { virtual_server: r.virtual_server as string } : { virtual_server: r.virtual_server as string, real_server: real });
  }
  return out;
}

function serviceIdentity(r: Raw): ServiceIdentity | undefined {
  let address: Endpoint | undefined;
  if (r.address !== undefined) {
    const a = typeof r.address === 'string' ? parseEndpoint(r.address) : undefined;
    if (!a?.ok) return undefined;
    address = a.value;
  }
  const fwmark = typeof r.fwmark === 'number' ? r.fwmark : undefined;
  if (!address && fwmark === undefined) return undefined;
  const family = address ? (address.family === 6 ? 'inet6' : 'inet') : r.family === 'inet6' ? 'inet6' : 'inet';
  const realServers: { address: Endpoint }[] = [];
  for (const rs of list(r.real_servers)) {
    const a = isRaw(rs) && typeof rs.address === 'string' ? parseEndpoint(rs.address, { defaultPort: address?.port ?? 0 }) : undefined;
    if (!a?.ok) return undefined; // unknown real server: references to it cannot be judged
    realServers.push({ address: a.value });
  }
  const id: ServiceIdentity = {
    name: str(r.name) ?? defaultVirtualServerName({ address, fwmark, family }),
    family,
    protocol: str(r.protocol) ?? 'tcp',
    real_servers: realServers,
  };
  if (address) id.address = address;
  if (fwmark !== undefined) id.fwmark = fwmark;
  return id;
}

function instanceIdentity(r: Raw): InstanceIdentity | undefined {
  const name = str(r.name);
  const iface = str(r.interface);
  const vrid = typeof r.virtual_router_id === 'number' ? r.virtual_router_id : undefined;
  if (!name || !iface || vrid === undefined) return undefined;
  const vips: InstanceIdentity['virtual_ips'][number][] = [];
  for (const v of list(r.virtual_ips)) {
    const text = typeof v === 'string' ? v : isRaw(v) ? str(v.address) : undefined;
    const c = text === undefined ? undefined : parseCidr(text);
    if (!c?.ok) return undefined;
    vips.push({ address: c.value });
  }
  const checks = references(isRaw(r.track) ? r.track.checks : undefined);
  if (!checks) return undefined;
  return { name, interface: iface, virtual_router_id: vrid, virtual_ips: vips, track: { checks } };
}

export function salvage(data: Raw): CheckableConfig {
  const vrrp = isRaw(data.vrrp) ? data.vrrp : {};
  const alerts = isRaw(data.alerts) ? data.alerts : {};
  const vrrpShape = sectionSchemas.vrrp.unwrap().shape;
  return {
    vrrp: {
      instances: items(vrrpShape.instances.unwrap().element, vrrp.instances, instanceIdentity),
      sync_groups: items(vrrpShape.sync_groups.unwrap().element, vrrp.sync_groups, (r) => {
        const name = str(r.name);
        const members = list(r.instances).filter((x): x is string => typeof x === 'string');
        return name ? { name, instances: members } : undefined;
      }),
    },
    virtual_servers: items(sectionSchemas.virtual_servers.unwrap().element, data.virtual_servers, serviceIdentity),
    alerts: {
      sinks: items(sectionSchemas.alerts.unwrap().shape.sinks.unwrap().element, alerts.sinks, (r) => {
        const name = str(r.name);
        return name ? { name } : undefined;
      }),
    },
    schedules: items(sectionSchemas.schedules.unwrap().element, data.schedules, (r) => {
      const name = str(r.name);
      if (!name) return undefined;
      const targets = references(r.targets);
      const sinks = list(r.sinks).filter((x): x is string => typeof x === 'string');
      return { name, sinks, ...(targets ? { targets } : {}) };
    }),
  };
}
