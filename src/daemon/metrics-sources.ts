/**
 * What the metrics scrape reads from the daemon: every real server's pool state and its three weights. One
 * table dump per call (kernel weights); concurrent scrapes share one call (metrics/collectors.ts). Linear in
 * the number of real servers: lookups are per virtual service, and ids are computed once per config object.
 */
import type { LvskeepConfig, RealServerConfig, VirtualServerConfig } from '../config/types.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import { destId, serviceId } from '../ipvs/model.js';
import type { RealServerSnapshot } from '../metrics/index.js';
import { rsId, vsId } from './ids.js';
import type { PoolSet } from './pools.js';

/** Config objects are replaced, never changed, by a reload: their ids can be kept with them. */
const vsIds = new WeakMap<VirtualServerConfig, string>();
const rsIds = new WeakMap<RealServerConfig, string>();

function cachedId<T extends object>(cache: WeakMap<T, string>, obj: T, id: (o: T) => string): string {
  let v = cache.get(obj);
  if (v === undefined) cache.set(obj, (v = id(obj)));
  return v;
}

export async function realServerSnapshot(config: LvskeepConfig, pools: PoolSet, backend: IpvsBackend): Promise<RealServerSnapshot[]> {
  const kernel = new Map<string, Map<string, number>>();
  for (const s of await backend.dump()) kernel.set(serviceId(s.key), new Map(s.dests.map((d) => [destId(d), d.weight])));
  const out: RealServerSnapshot[] = [];
  for (const vs of config.virtual_servers) {
    const v = cachedId(vsIds, vs, vsId);
    // One desired() per pool, not per real server (a pool of 10,000 made a scrape quadratic).
    const desired = pools.weightsOf(v);
    const status = pools.statusesOf(v);
    const inKernel = kernel.get(v);
    for (const rs of vs.real_servers) {
      const r = cachedId(rsIds, rs, rsId);
      out.push({
        virtualServer: v,
        realServer: r,
        state: status?.get(r) ?? 'unknown',
        weights: { configured: rs.weight, desired: desired?.get(r), kernel: inKernel?.get(r) },
      });
    }
  }
  return out;
}
