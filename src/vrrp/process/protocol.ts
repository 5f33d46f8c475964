// The messages between the daemon (parent) and its VRRP child process (src/vrrp/process/child-main.ts). They go
// over Node's IPC channel with `advanced` serialization (structured clone), so plain objects cross as they are.
import type { VrrpConfig } from '../../config/types.js';
import type { LvsEvent } from '../../events/types.js';
import type { LogFormat } from '../../log/logger.js';
import type { ManagedInstanceStatus } from '../runtime/manager.js';

/** What the child needs besides the vrrp section to build its manager and logger. */
export interface ChildSettings {
  vipBackend: 'netlink' | 'iproute2' | 'auto';
  logLevel: string;
  logFormat: LogFormat;
  /** How often the child pushes its status (and timer lateness samples) without a state change; ms. */
  statusIntervalMs: number;
  /**
   * global.vrrp_rt_priority and vrrp_rlimit_rttime: the child puts its main thread into SCHED_RR at this priority
   * (0 or absent: off) once its manager has started; rttimeUs is its RLIMIT_RTTIME.
   */
  realtime?: { priority: number; rttimeUs: number };
}

export type ToChild =
  | { t: 'start'; id: number; config: VrrpConfig; settings: ChildSettings }
  | { t: 'reload'; id: number; config: VrrpConfig }
  | { t: 'stop'; id: number }
  | { t: 'step-down'; name?: string; reason: string }
  | { t: 'check-state'; virtualServer: string; realServer?: string; up: boolean }
  | { t: 'log-level'; level: string };

export type FromChild =
  | { t: 'reply'; id: number; ok: true; value?: unknown }
  | { t: 'reply'; id: number; ok: false; error: string }
  /** One event from the child's bus, already stamped (createEvent) there. */
  | { t: 'event'; event: LvsEvent }
  /**
   * A status snapshot, plus the lateness (ms) of every VRRP timer that fired since the previous push (up to a
   * bound; `latenessDropped` counts the rest).
   */
  | { t: 'status'; status: ManagedInstanceStatus[]; lateness: number[]; latenessDropped: number }
  /** Sent from the child's uncaughtException handler just before it exits, so the parent can log why. */
  | { t: 'fatal'; error: string };

export type ReloadResult = { kept: string[]; started: string[]; stopped: string[] };

/** A message from the child is trusted code, but a broken one must not take the parent down: check the shape. */
export function isFromChild(m: unknown): m is FromChild {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { t?: unknown }).t;
  switch (t) {
    case 'reply':
      return typeof (m as { id?: unknown }).id === 'number' && typeof (m as { ok?: unknown }).ok === 'boolean';
    case 'event':
      return typeof (m as { event?: { type?: unknown } }).event?.type === 'string';
    case 'status':
      return Array.isArray((m as { status?: unknown }).status) && Array.isArray((m as { lateness?: unknown }).lateness);
    case 'fatal':
      return typeof (m as { error?: unknown }).error === 'string';
    default:
      return false;
  }
}

export function isToChild(m: unknown): m is ToChild {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { t?: unknown }).t;
  return t === 'start' || t === 'reload' || t === 'stop' || t === 'step-down' || t === 'check-state' || t === 'log-level';
}
