/**
 * Which VRRP `track.checks` entries a pool change concerns. Pure: the config's references are matched by name
 * or address (as the config layer resolves them) and reported back with the exact text the config used,
 * which is the name the VRRP manager tracks them under.
 */
import { findRealServer, findVirtualServer } from '../config/cross-check.js';
import type { LvskeepConfig } from '../config/types.js';
import { endpointId, vsId } from './ids.js';

export interface TrackedCheck {
  /** As written in the config. */
  virtualServer: string;
  realServer?: string;
  /** Resolved ids. */
  vs: string;
  rs?: string;
}

export function trackedChecks(config: Pick<LvskeepConfig, 'vrrp' | 'virtual_servers'>): TrackedCheck[] {
  const out: TrackedCheck[] = [];
  const seen = new Set<string>();
  for (const inst of config.vrrp.instances) {
    for (const t of inst.track.checks) {
      const vs = findVirtualServer(config.virtual_servers, t.virtual_server);
      if (!vs) continue; // the config layer reports unknown references; nothing to track here
      const key = `${t.virtual_server}\u0000${t.real_server ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const item: TrackedCheck = { virtualServer: t.virtual_server, vs: vsId(vs) };
      if (t.real_server !== undefined) {
        const ep = findRealServer(vs, t.real_server);
        if (!ep) continue;
        item.realServer = t.real_server;
        item.rs = endpointId(ep);
      }
      out.push(item);
    }
  }
  return out;
}
