/** What the metrics scrape reads from the daemon: every real server's pool state and its three weights. */
import type { LvskeepConfig } from '../config/types.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import { destId, serviceId } from '../ipvs/model.js';
import type { RealServerSnapshot } from '../metrics/index.js';
import { checkId, rsId, vsId } from './ids.js';
import type { PoolSet } from './pools.js';

export async function realServerSnapshot(config: LvskeepConfig, pools: PoolSet, backend: IpvsBackend): Promise<RealServerSnapshot[]> {
  const kernel = new Map<string, number>();
  for (const s of await backend.dump()) for (const d of s.dests) kernel.set(checkId(serviceId(s.key), destId(d)), d.weight);
  const status = new Map<string, string>();
  for (const p of pools.statuses()) for (const s of p.servers) status.set(checkId(p.id, s.id), s.status);
  const out: RealServerSnapshot[] = [];
  for (const vs of config.virtual_servers) {
    const v = vsId(vs);
    for (const rs of vs.real_servers) {
      const r = rsId(rs);
      const id = checkId(v, r);
      out.push({
        virtualServer: v,
        realServer: r,
        state: status.get(id) ?? 'unknown',
        weights: { configured: rs.weight, desired: pools.weightOf(v, r), kernel: kernel.get(id) },
      });
    }
  }
  return out;
}
