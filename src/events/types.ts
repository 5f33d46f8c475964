/**
 * The one event stream of the daemon. Producers (VRRP, health checks, IPVS reconciler, daemon lifecycle, alert
 * delivery) build an `EventBody`; `createEvent` stamps it with time and the derived alerting facts (severity,
 * dedup key, whether it opens or resolves an incident) so that every consumer classifies events the same way.
 */

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

/** Ids are the text forms used across lvskeep: `tcp 203.0.113.1:80` (serviceId) and `198.51.100.11:80` (destId). */
export interface RealServerRef {
  virtualServer: string;
  realServer: string;
}

export type EventBody =
  | { type: 'vrrp.state'; instance: string; from: VrrpState; to: VrrpState; reason: string; priority: number }
  /** Another master was seen for our VRID while we are master; `cleared` when only one master remains. */
  | { type: 'vrrp.split_brain'; instance: string; peer: string; cleared: boolean }
  /** The VRRP child process died (`exited`, with why) or runs again (`restarted`); `restarts` so far. */
  | { type: 'vrrp.process'; status: 'exited' | 'restarted'; reason: string; restarts: number }
  | ({ type: 'rs.down'; reason: string; latencyMs?: number } & RealServerRef)
  /** `downForMs`: how long it had been out, when the producer knows. */
  | ({ type: 'rs.up'; reason: string; latencyMs?: number; downForMs?: number } & RealServerRef)
  | ({ type: 'rs.flapping'; reason: string; transitions?: number; windowMs?: number } & RealServerRef)
  | ({ type: 'rs.drained'; reason: string } & RealServerRef)
  | ({ type: 'rs.maintenance'; on: boolean; reason: string } & RealServerRef)
  /** Counts are optional: producers that only have a reason text still report the change. */
  | { type: 'quorum.lost'; virtualServer: string; reason: string; up?: number; quorum?: number }
  | { type: 'quorum.regained'; virtualServer: string; reason: string; up?: number; quorum?: number }
  | { type: 'sorry.on'; virtualServer: string; sorryServer: string }
  | { type: 'sorry.off'; virtualServer: string; sorryServer: string }
  | { type: 'panic.entered'; virtualServer: string; reason: string; up?: number; total?: number }
  | { type: 'panic.left'; virtualServer: string; reason: string; up?: number; total?: number }
  | { type: 'ipvs.drift_repaired'; changes: number; detail: string }
  | { type: 'ipvs.error'; operation: string; object: string; error: string }
  | { type: 'vip.error'; instance: string; address: string; interface: string; error: string }
  | { type: 'daemon.started'; version: string }
  | { type: 'daemon.stopped'; reason: string }
  | { type: 'daemon.reloaded'; source: string }
  | { type: 'daemon.reload_failed'; source: string; error: string }
  | { type: 'alert.delivery_failing'; sink: string; error: string; dropped: number }
  | { type: 'alert.delivery_recovered'; sink: string }
  /** Sent by `lvskeep alert test`; never produced by the daemon itself. */
  | { type: 'alert.test'; note: string };

export type EventType = EventBody['type'];

export const EVENT_TYPES: readonly EventType[] = [
  'vrrp.state', 'vrrp.split_brain', 'vrrp.process', 'rs.down', 'rs.up', 'rs.flapping', 'rs.drained', 'rs.maintenance',
  'quorum.lost', 'quorum.regained', 'sorry.on', 'sorry.off', 'panic.entered', 'panic.left',
  'ipvs.drift_repaired', 'ipvs.error', 'vip.error', 'daemon.started', 'daemon.stopped', 'daemon.reloaded',
  'daemon.reload_failed', 'alert.delivery_failing', 'alert.delivery_recovered', 'alert.test',
];

export interface EventMeta {
  /** Milliseconds since the epoch. */
  time: number;
  severity: Severity;
  /** Same key for a problem and the recovery that ends it, e.g. `rs-down:tcp 203.0.113.1:80:198.51.100.11:80`. */
  dedupKey: string;
  /** This event opens an incident (a problem that a later event resolves). */
  opens: boolean;
  /** This event ends the incident opened under the same dedupKey. */
  resolves: boolean;
}

export type LvsEvent = EventBody & EventMeta;
export type EventOf<T extends EventType> = Extract<LvsEvent, { type: T }>;

type Classification = Omit<EventMeta, 'time'>;

function rsKey(prefix: string, r: RealServerRef): string {
  return `${prefix}:${r.virtualServer}:${r.realServer}`;
}

const opens = (severity: Severity, dedupKey: string): Classification => ({ severity, dedupKey, opens: true, resolves: false });
const resolves = (dedupKey: string): Classification => ({ severity: 'info', dedupKey, opens: false, resolves: true });
const notice = (severity: Severity, dedupKey: string): Classification => ({ severity, dedupKey, opens: false, resolves: false });

/** Severity and incident identity of an event. Pure; the single place that decides them. */
export function classify(e: EventBody): Classification {
  switch (e.type) {
    case 'vrrp.state': {
      const fault = `vrrp-fault:${e.instance}`;
      if (e.to === 'FAULT') return opens('critical', fault);
      if (e.from === 'FAULT') return resolves(fault);
      // A change of master is what operators want to hear about even when it is healthy.
      const severity: Severity = e.to === 'MASTER' || e.from === 'MASTER' ? 'warning' : 'info';
      return notice(severity, `vrrp-state:${e.instance}:${e.to}`);
    }
    case 'vrrp.split_brain':
      return e.cleared ? resolves(`split-brain:${e.instance}`) : opens('critical', `split-brain:${e.instance}`);
    case 'vrrp.process':
      // While it is down this director takes no part in the election: critical until it runs again.
      return e.status === 'exited' ? opens('critical', 'vrrp-process') : resolves('vrrp-process');
    case 'rs.down':
      return opens('warning', rsKey('rs-down', e));
    case 'rs.up':
      return resolves(rsKey('rs-down', e));
    case 'rs.flapping':
      return notice('warning', rsKey('rs-flapping', e));
    case 'rs.drained':
      return notice('info', rsKey('rs-drained', e));
    case 'rs.maintenance':
      return notice('info', `${rsKey('rs-maintenance', e)}:${e.on ? 'on' : 'off'}`);
    case 'quorum.lost':
      return opens('critical', `quorum:${e.virtualServer}`);
    case 'quorum.regained':
      return resolves(`quorum:${e.virtualServer}`);
    case 'sorry.on':
      return opens('warning', `sorry:${e.virtualServer}`);
    case 'sorry.off':
      return resolves(`sorry:${e.virtualServer}`);
    case 'panic.entered':
      return opens('critical', `panic:${e.virtualServer}`);
    case 'panic.left':
      return resolves(`panic:${e.virtualServer}`);
    case 'ipvs.drift_repaired':
      return notice('warning', 'ipvs-drift');
    case 'ipvs.error':
      return notice('critical', `ipvs-error:${e.operation}:${e.object}`);
    case 'vip.error':
      return notice('critical', `vip-error:${e.instance}:${e.address}`);
    case 'daemon.started':
      return notice('info', 'daemon-started');
    case 'daemon.stopped':
      return notice('warning', 'daemon-stopped');
    case 'daemon.reloaded':
      return resolves('reload-failed');
    case 'daemon.reload_failed':
      return opens('warning', 'reload-failed');
    case 'alert.delivery_failing':
      return opens('warning', `alert-delivery:${e.sink}`);
    case 'alert.delivery_recovered':
      return resolves(`alert-delivery:${e.sink}`);
    case 'alert.test':
      return notice('info', 'alert-test');
  }
}

export function createEvent<B extends EventBody>(body: B, time: number): B & EventMeta {
  return { ...body, ...classify(body), time };
}

/** `rs.*`, `*` and exact types. An empty or absent filter matches everything. */
export function eventMatches(type: EventType, filter: readonly string[] | undefined): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}
