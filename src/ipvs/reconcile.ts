import { canonicalAddress } from './addr.js';
import type { IpvsOp } from './backend.js';
import { destId, endpointText, serviceId, type DesiredService, type DestSpec, type ServiceState } from './model.js';
import { destDifferences, normalizeDesired, normalizeServiceSpec, serviceDifferences } from './spec-diff.js';

/**
 * The pure core of IPVS table ownership: compare the desired table with what the kernel reports and
 * produce the operations, in an order the kernel accepts, that make them equal.
 *
 * - a service is added before its destinations and edited in place (never deleted and re-added), so a
 *   scheduler or weight change keeps live connections;
 * - within a service, new destinations are added before stale ones are removed, so a service whose whole
 *   pool is replaced never has zero destinations in between;
 * - destinations are deleted before their service;
 * - services that are not desired are left alone unless `owned: 'all'`.
 */

export interface PlanOptions {
  /** 'configured': touch only services in the desired table; 'all': also delete every other service. */
  owned: 'configured' | 'all';
}

/** One planned change with the evidence for it, shared by planChanges and describeDrift. */
export interface DriftItem {
  op: IpvsOp;
  /** `tcp 203.0.113.1:80` or `tcp 203.0.113.1:80 -> 198.51.100.11:80`. */
  object: string;
  found: string;
  action: string;
}

function checkUnique(desired: readonly DesiredService[]): void {
  const seen = new Set<string>();
  for (const s of desired) {
    const id = serviceId(s.key);
    if (seen.has(id)) throw new Error(`desired table lists service ${id} twice`);
    seen.add(id);
    const dests = new Set<string>();
    for (const d of s.dests) {
      const did = destId(d);
      if (dests.has(did)) throw new Error(`desired service ${id} lists real server ${did} twice (after normalising its port)`);
      dests.add(did);
    }
  }
}

function destSummary(d: DestSpec): string {
  const tunnel = d.forwarding === 'tunnel' ? ` ${d.tunnelType ?? 'ipip'}` : '';
  return `${d.forwarding}${tunnel}, weight ${d.weight}`;
}

/** Every difference between desired and actual, with the op that repairs it, in apply order. */
export function diffTables(desiredIn: readonly DesiredService[], actual: readonly ServiceState[], opts: PlanOptions): DriftItem[] {
  const desired = desiredIn.map(normalizeDesired);
  checkUnique(desired);
  const actualById = new Map(actual.map((s) => [serviceId(normalizeServiceSpec(s).key), s]));
  const items: DriftItem[] = [];

  for (const want of desired) {
    const id = serviceId(want.key);
    const { dests, ...spec } = want;
    const have = actualById.get(id);
    if (!have) {
      items.push({ op: { op: 'add-service', service: spec }, object: id, found: 'missing', action: `add it (${spec.scheduler})` });
      for (const d of dests) {
        items.push({ op: { op: 'add-dest', service: want.key, dest: d }, object: `${id} -> ${destId(d)}`, found: 'missing', action: `add it (${destSummary(d)})` });
      }
      continue;
    }
    const serviceDiffs = serviceDifferences(spec, normalizeServiceSpec(have));
    if (serviceDiffs.length > 0) {
      items.push({ op: { op: 'edit-service', service: spec }, object: id, found: serviceDiffs.join(', '), action: 'edit the service in place' });
    }
    // Canonical ids on both sides, whatever spelling a backend reports (e.g. IPv4-mapped IPv6).
    const haveDests = new Map(have.dests.map((d) => [endpointText(d.family, canonicalAddress(d.address) ?? d.address, d.port), d]));
    const wantIds = new Set<string>();
    const adds: DriftItem[] = [];
    const edits: DriftItem[] = [];
    for (const d of dests) {
      const did = destId(d);
      wantIds.add(did);
      const current = haveDests.get(did);
      const object = `${id} -> ${did}`;
      if (!current) {
        adds.push({ op: { op: 'add-dest', service: want.key, dest: d }, object, found: 'missing', action: `add it (${destSummary(d)})` });
        continue;
      }
      const diffs = destDifferences(d, current);
      if (diffs.length > 0) edits.push({ op: { op: 'edit-dest', service: want.key, dest: d }, object, found: diffs.join(', '), action: 'edit it in place' });
    }
    const dels: DriftItem[] = [...haveDests.entries()]
      .filter(([did]) => !wantIds.has(did))
      .map(([, d]) => d)
      .map((d) => ({
        op: { op: 'del-dest', service: want.key, dest: { family: d.family, address: d.address, port: d.port } },
        object: `${id} -> ${destId(d)}`,
        found: `not configured (${destSummary(d)}, ${d.activeConns} active connections)`,
        action: 'delete it',
      }));
    items.push(...adds, ...edits, ...dels);
  }

  if (opts.owned === 'all') {
    const wanted = new Set(desired.map((s) => serviceId(s.key)));
    for (const [id, have] of actualById) {
      if (wanted.has(id)) continue;
      for (const d of have.dests) {
        items.push({
          op: { op: 'del-dest', service: have.key, dest: { family: d.family, address: d.address, port: d.port } },
          object: `${id} -> ${destId(d)}`,
          found: 'service not configured',
          action: 'delete it before its service',
        });
      }
      items.push({ op: { op: 'del-service', key: have.key }, object: id, found: 'not configured (owned: all)', action: 'delete it' });
    }
  }
  return items;
}

/** The operations that turn `actual` into `desired`; [] when the table already matches. */
export function planChanges(desired: readonly DesiredService[], actual: readonly ServiceState[], opts: PlanOptions): IpvsOp[] {
  return diffTables(desired, actual, opts).map((i) => i.op);
}

/** Human lines for the log: `tcp 203.0.113.1:80 -> 198.51.100.11:80: found weight 1 -> 3; will edit it in place`. */
export function describeDrift(
  desired: readonly DesiredService[],
  actual: readonly ServiceState[],
  opts: PlanOptions = { owned: 'configured' },
): string[] {
  return diffTables(desired, actual, opts).map((i) => `${i.object}: found ${i.found}; will ${i.action}`);
}
