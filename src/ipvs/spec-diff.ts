import { canonicalAddress, hostPrefix } from './addr.js';
import type { DesiredService, DestSpec, ServiceKey, ServiceSpec, TunnelChecksum, TunnelType } from './model.js';

/**
 * Field-by-field comparison of service and destination specs, and the normalisation that makes a desired
 * table comparable with what the kernel reports back (canonical addresses, kernel defaults filled in).
 */

/** Sort flags so that `[sh-port, sh-fallback]` and `[sh-fallback, sh-port]` compare equal. */
function sortedFlags(flags: readonly string[]): string[] {
  return [...new Set(flags)].sort();
}

function canonicalKey(key: ServiceKey): ServiceKey {
  if (key.kind === 'fwmark') return key;
  return { ...key, address: canonicalAddress(key.address) ?? key.address };
}

function servicePort(key: ServiceKey): number {
  return key.kind === 'fwmark' ? 0 : key.port;
}

/**
 * The kernel (through ipvsadm) only keeps a destination port for masquerading: direct routing and tunnels
 * deliver to the service's own port, so ipvsadm replaces any other port with the service port (fwmark: 0).
 * Normalising here keeps the reconciler from chasing a port the kernel will never report back.
 */
export function normalizeDest(service: ServiceKey, dest: DestSpec): DestSpec {
  const out: DestSpec = {
    family: dest.family,
    address: canonicalAddress(dest.address) ?? dest.address,
    port: dest.forwarding === 'masq' ? dest.port : servicePort(service),
    forwarding: dest.forwarding,
    weight: dest.weight,
    upperThreshold: dest.upperThreshold,
    lowerThreshold: dest.lowerThreshold,
  };
  if (dest.forwarding === 'tunnel') {
    out.tunnelType = dest.tunnelType ?? 'ipip';
    if (out.tunnelType === 'gue') out.tunnelPort = dest.tunnelPort ?? 0;
    if (out.tunnelType !== 'ipip') out.tunnelChecksum = dest.tunnelChecksum ?? 'nocsum';
  }
  return out;
}

export function normalizeServiceSpec(spec: ServiceSpec): ServiceSpec {
  const out: ServiceSpec = {
    key: canonicalKey(spec.key),
    scheduler: spec.scheduler,
    schedulerFlags: sortedFlags(spec.schedulerFlags) as ServiceSpec['schedulerFlags'],
    onePacket: spec.onePacket,
  };
  if (spec.persistence) out.persistence = { ...spec.persistence };
  return out;
}

export function normalizeDesired(service: DesiredService): DesiredService {
  const spec = normalizeServiceSpec(service);
  return { ...spec, dests: service.dests.map((d) => normalizeDest(spec.key, d)) };
}

function persistenceText(spec: ServiceSpec): string {
  const p = spec.persistence;
  if (!p) return 'not persistent';
  const family = spec.key.family;
  if (p.rawNetmask !== undefined) return `persistent ${p.timeout}s mask ${p.rawNetmask}`;
  return p.netmaskPrefix === hostPrefix(family) ? `persistent ${p.timeout}s` : `persistent ${p.timeout}s /${p.netmaskPrefix}`;
}

/** Human differences, `scheduler wlc -> rr`; empty when the kernel needs no edit. */
export function serviceDifferences(desired: ServiceSpec, actual: ServiceSpec): string[] {
  const out: string[] = [];
  if (desired.scheduler !== actual.scheduler) out.push(`scheduler ${actual.scheduler} -> ${desired.scheduler}`);
  const df = sortedFlags(desired.schedulerFlags).join(',');
  const af = sortedFlags(actual.schedulerFlags).join(',');
  if (df !== af) out.push(`scheduler flags [${af}] -> [${df}]`);
  const dp = persistenceText(desired);
  const ap = persistenceText(actual);
  if (dp !== ap) out.push(`${ap} -> ${dp}`);
  if (desired.onePacket !== actual.onePacket) out.push(`one-packet ${actual.onePacket} -> ${desired.onePacket}`);
  return out;
}

function tunnelText(d: DestSpec): string {
  if (d.forwarding !== 'tunnel') return '';
  const type: TunnelType = d.tunnelType ?? 'ipip';
  const csum: TunnelChecksum = d.tunnelChecksum ?? 'nocsum';
  if (type === 'ipip') return 'ipip';
  if (type === 'gue') return `gue:${d.tunnelPort ?? 0}:${csum}`;
  return `gre:${csum}`;
}

/** Human differences between two destinations with the same key; empty when equal. */
export function destDifferences(desired: DestSpec, actual: DestSpec): string[] {
  const out: string[] = [];
  if (desired.forwarding !== actual.forwarding) out.push(`forwarding ${actual.forwarding} -> ${desired.forwarding}`);
  if (desired.weight !== actual.weight) out.push(`weight ${actual.weight} -> ${desired.weight}`);
  if (desired.upperThreshold !== actual.upperThreshold) out.push(`upper threshold ${actual.upperThreshold} -> ${desired.upperThreshold}`);
  if (desired.lowerThreshold !== actual.lowerThreshold) out.push(`lower threshold ${actual.lowerThreshold} -> ${desired.lowerThreshold}`);
  const dt = tunnelText(desired);
  const at = tunnelText(actual);
  if (desired.forwarding === 'tunnel' && actual.forwarding === 'tunnel' && dt !== at) out.push(`tunnel ${at} -> ${dt}`);
  else if (desired.forwarding === 'tunnel' && actual.forwarding !== 'tunnel' && dt !== 'ipip') out.push(`tunnel ${dt}`);
  return out;
}
