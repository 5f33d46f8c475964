/**
 * The desired IPVS table from the configuration and the pools' decisions. Pure: the caller says which weight
 * each real server gets (null = leave it out) and whether a service's sorry server is on.
 */
import type { RealServerConfig, VirtualServerConfig } from '../config/types.js';
import { desiredFromVirtualServer, destOf } from '../ipvs/from-config.js';
import { destId, type DesiredService } from '../ipvs/model.js';
import { rsId, vsId } from './ids.js';

/** The pool adapter (src/pool/from-config.ts) gives the sorry server weight 1 as well. */
const SORRY_WEIGHT = 1;

export interface TableDecisions {
  /** Weight of a real server, null when it must be absent. */
  weight(vs: string, rs: string): number | null;
  sorryOn(vs: string): boolean;
}

/** Every real server at its configured weight: what `plan`/`apply` program. */
export const CONFIGURED_WEIGHTS: TableDecisions = { weight: () => Number.NaN, sorryOn: () => false };

export function desiredTable(virtualServers: readonly VirtualServerConfig[], decide: TableDecisions): DesiredService[] {
  return virtualServers.map((vs) => {
    const id = vsId(vs);
    const service = desiredFromVirtualServer(vs, {
      realServerWeight: (_vs, rs) => {
        const w = decide.weight(id, rsId(rs));
        return Number.isNaN(w) ? rs.weight : w;
      },
    });
    if (vs.sorry_server && decide.sorryOn(id)) {
      const sorry: RealServerConfig = { address: vs.sorry_server, weight: SORRY_WEIGHT, forwarding: vs.forwarding, upper_threshold: 0, lower_threshold: 0 };
      const dest = destOf(vs, sorry);
      // A sorry server that is also a real server is already in the table; listing it twice is invalid.
      if (!service.dests.some((d) => destId(d) === destId(dest))) service.dests.push(dest);
    }
    return service;
  });
}
