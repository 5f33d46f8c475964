/**
 * Where each real server starts when the daemon starts (or a reload adds it). A server already in the kernel
 * keeps the kernel's weight until its first check result, and its check assumes what the kernel says (weight
 * above 0 = up), so a restarted lvskeep never takes a working server out or puts a failed one back on
 * assumptions. A server not in the kernel starts from its check's `assume`; one without a check is always up.
 */
import type { LvskeepConfig } from '../config/types.js';
import type { HealthStatus } from '../health/types.js';
import { destId, serviceId, type ServiceState } from '../ipvs/model.js';
import { checkId, rsId, vsId } from './ids.js';
import type { InitialServer } from './pools.js';

/** Kernel weight per check id (`tcp 203.0.113.1:80 -> 198.51.100.11:80`). */
export type KernelWeights = ReadonlyMap<string, number>;

export function kernelWeights(table: readonly ServiceState[]): KernelWeights {
  const out = new Map<string, number>();
  for (const s of table) for (const d of s.dests) out.set(checkId(serviceId(s.key), destId(d)), d.weight);
  return out;
}

export interface StartingPoint extends InitialServer {
  /** The check's starting status; undefined for a server without a check. */
  assume?: HealthStatus;
}

/** Starting points of every configured real server, by check id. */
export function startingPoints(config: Pick<LvskeepConfig, 'virtual_servers'>, kernel: KernelWeights): Map<string, StartingPoint> {
  const out = new Map<string, StartingPoint>();
  for (const vs of config.virtual_servers) {
    const v = vsId(vs);
    for (const rs of vs.real_servers) {
      const id = checkId(v, rsId(rs));
      if (!rs.check) {
        out.set(id, { health: 'up' });
        continue;
      }
      const w = kernel.get(id);
      if (w === undefined) out.set(id, { health: rs.check.assume, assume: rs.check.assume });
      else {
        const h: HealthStatus = w > 0 ? 'up' : 'down';
        out.set(id, { health: h, assume: h, pin: w });
      }
    }
  }
  return out;
}

/** A lookup over startingPoints with a safe default for ids it does not know. */
export function startingPointOf(points: ReadonlyMap<string, StartingPoint>): (vs: string, rs: string) => StartingPoint {
  return (vs, rs) => points.get(checkId(vs, rs)) ?? { health: 'down' };
}
