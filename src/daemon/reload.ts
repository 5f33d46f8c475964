/** The pure parts of a reload: what disappears from the kernel, and the one-line summary for the log. */
import type { LvskeepConfig } from '../config/types.js';
import type { IpvsOp } from '../ipvs/backend.js';
import { serviceKeyOf } from '../ipvs/from-config.js';
import { serviceId } from '../ipvs/model.js';
import type { SyncResult } from './health-wiring.js';
import type { ReconfigureResult } from './pools.js';

/**
 * Deleting a service takes its real servers with it. The reconciler only touches configured services (unless
 * owned: all), so services dropped from the configuration are removed here.
 */
export function removedServiceOps(old: Pick<LvskeepConfig, 'virtual_servers'>, next: Pick<LvskeepConfig, 'virtual_servers'>): IpvsOp[] {
  const keep = new Set(next.virtual_servers.map((vs) => serviceId(serviceKeyOf(vs))));
  return old.virtual_servers
    .map((vs) => serviceKeyOf(vs))
    .filter((key) => !keep.has(serviceId(key)))
    .map((key) => ({ op: 'del-service', key }));
}

export function reloadSummary(checks: SyncResult, pools: ReconfigureResult): Record<string, number | string[]> {
  return {
    checksKept: checks.kept.length,
    checksAdded: checks.added,
    checksRestarted: checks.restarted,
    checksRemoved: checks.removed,
    servicesAdded: pools.added,
    servicesRemoved: pools.removed,
    servicesKept: pools.kept.length,
  };
}

/** `checks 12 kept, 1 added, 0 restarted, 2 removed; services 3 kept, 0 added, 1 removed`. */
export function summaryLine(s: ReturnType<typeof reloadSummary>): string {
  const n = (v: number | string[] | undefined): number => (Array.isArray(v) ? v.length : (v ?? 0));
  return (
    `checks ${n(s.checksKept)} kept, ${n(s.checksAdded)} added, ${n(s.checksRestarted)} restarted, ${n(s.checksRemoved)} removed; ` +
    `services ${n(s.servicesKept)} kept, ${n(s.servicesAdded)} added, ${n(s.servicesRemoved)} removed`
  );
}
